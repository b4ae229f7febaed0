// One construct per file under lib/constructs/, each taking a Props object (not positional
// arguments), so each can be read, and built, on its own.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { Mail } from '../lib/constructs/mail';
import { Storage } from '../lib/constructs/storage';
import { Subscribers } from '../lib/constructs/subscribers';
import { loadContract, loadLifecycle } from '../lib/definitions';

const DIR = path.join(__dirname, '..', 'lib', 'constructs');
const source = (f: string) => fs.readFileSync(f, 'utf8');

describe('constructs', () => {
  it('live one per file, each with an exported Props interface and a (scope, id, props) constructor', () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.ts'));
    assert.equal(files.length, 8);
    for (const f of files) {
      const text = source(path.join(DIR, f));
      const classes = [...text.matchAll(/^export class (\w+) extends Construct/gm)].map((m) => m[1]);
      assert.equal(classes.length, 1, `${f}: ${classes}`);
      const name = classes[0];
      assert.match(text, new RegExp(`^export interface ${name}Props \\{`, 'm'), `${f}: ${name}Props`);
      assert.match(text, new RegExp(`constructor\\(scope: Construct, id: string, props: ${name}Props\\)`), `${f}: constructor`);
      const mod = require(path.join(DIR, f));
      assert.equal(Object.getPrototypeOf(mod[name]), Construct, `${f}: ${name} is a Construct`);
    }
    assert.doesNotMatch(source(path.join(__dirname, '..', 'lib', 'stockpicks-stack.ts')), /^\s*(export )?class \w+ extends Construct/m, 'the stack file composes, it declares none');
  });

  it('build on their own from their Props', () => {
    const stack = new Stack(new App(), 'Alone');
    new Storage(stack, 'Storage', { stage: 'dev', rules: loadLifecycle(undefined, loadContract()) });
    new Mail(stack, 'Mail', { stage: 'dev', sender: 'picks@stockpicks.test' });
    new Subscribers(stack, 'Subscribers', { stage: 'dev', topic: 'weekly-picks' });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::S3::Bucket', 2);
    t.hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: { LogFilePrefix: 'stockpicks-dev/' } });
    t.hasResourceProperties('AWS::SES::ConfigurationSet', { Name: 'stockpicks-dev' });
    t.hasResourceProperties('AWS::SES::ContactList', { ContactListName: 'stockpicks-dev' });
  });
});
