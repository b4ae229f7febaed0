#!/usr/bin/env node
// `cdk synth` / `cdk deploy` entry point: see bin/app.ts for the context it reads.
import { App } from 'aws-cdk-lib';
import { buildApp } from './app';

const app = new App();
buildApp(app);
app.synth();
