// One construct of the stockpicks stack; lib/stockpicks-stack.ts composes them.
import { Stack } from 'aws-cdk-lib';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';

export interface MailProps {
  stage: string;
  /** The sender address; its identity and its domain's are the ones the function may send as. */
  sender: string;
}

/** The SES configuration set whose delivery events become CloudWatch metrics. */
export class Mail extends Construct {
  readonly configurationSet: ses.ConfigurationSet;
  readonly identityArns: string[];
  constructor(scope: Construct, id: string, props: MailProps) {
    super(scope, id);
    const { stage, sender } = props;
    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', { configurationSetName: `stockpicks-${stage}` });
    this.configurationSet.addEventDestination('CloudWatch', {
      destination: ses.EventDestination.cloudWatchDimensions([
        { name: 'ses:configuration-set', source: ses.CloudWatchDimensionSource.MESSAGE_TAG, defaultValue: `stockpicks-${stage}` },
      ]),
      events: [ses.EmailSendingEvent.SEND, ses.EmailSendingEvent.DELIVERY, ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT],
    });
    const domain = sender.split('@')[1];
    const stack = Stack.of(this);
    this.identityArns = [sender, domain].map((i) => stack.formatArn({ service: 'ses', resource: 'identity', resourceName: i }));
  }
}
