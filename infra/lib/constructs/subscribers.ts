// One construct of the stockpicks stack; lib/stockpicks-stack.ts composes them.
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';

/**
 * SES contact list and topic names. AWS::SES::ContactList: "ContactListName ... Pattern:
 * ^[a-zA-Z0-9_-]{1,64}$" (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ses-contactlist.html);
 * its Topic: "TopicName ... Pattern: ^[a-zA-Z0-9_-]{1,64}$", "DisplayName ... Maximum: 128"
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-ses-contactlist-topic.html).
 */
export const SES_LIST_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export interface SubscribersProps {
  stage: string;
  /**
   * The name of a contact list that already exists in the account and Region. SES allows one
   * contact list per account: when this is set the stack creates none and uses that one.
   */
  existingList?: string;
  /** The topic readers subscribe to (a topic of the list; created with it when the stack creates the list). */
  topic: string;
}

/**
 * The readers: an SES v2 contact list with one topic. Addresses never appear in the template;
 * the operator adds and removes contacts (`stockpicks subscribers add ADDRESS`) with their own
 * credentials, and SES's list-management links let a reader unsubscribe.
 */
export class Subscribers extends Construct {
  /** The contact list's name (a Ref when the stack creates it, so the function comes after it). */
  readonly listName: string;
  readonly topicName: string;
  /** arn:aws:ses:REGION:ACCOUNT:contact-list/NAME */
  readonly listArn: string;
  /** The list, when this stack creates it (undefined with an existing list). */
  readonly contactList?: ses.CfnContactList;
  constructor(scope: Construct, id: string, props: SubscribersProps) {
    super(scope, id);
    const { stage, existingList, topic } = props;
    if (!SES_LIST_NAME.test(topic)) throw new Error(`context contactTopic=${topic}: an SES topic name is 1 to 64 letters, digits, '_' or '-'`);
    if (existingList !== undefined && !SES_LIST_NAME.test(existingList)) {
      throw new Error(`context contactList=${existingList}: an SES contact list name is 1 to 64 letters, digits, '_' or '-'`);
    }
    this.topicName = topic;
    if (existingList !== undefined) {
      this.listName = existingList;
    } else {
      this.contactList = new ses.CfnContactList(this, 'ContactList', {
        contactListName: `stockpicks-${stage}`,
        description: `Readers of the stockpicks (${stage}) weekly report`,
        topics: [{
          topicName: topic,
          displayName: 'Weekly stock picks',
          description: 'The weekly stockpicks report: the top-ranked S&P 500 stocks of the week',
          // A contact the operator adds is subscribed unless they opt out (list-management link).
          defaultSubscriptionStatus: 'OPT_IN',
        }],
      });
      // The list holds the subscribers and their opt-outs: deleting the stack (or a change that
      // would replace the list) must not silently drop them. A retained list stays in the account
      // (one per account): a new stack then names it with -c contactList=stockpicks-STAGE.
      this.contactList.applyRemovalPolicy(RemovalPolicy.RETAIN);
      this.listName = this.contactList.ref;
    }
    this.listArn = Stack.of(this).formatArn({ service: 'ses', resource: 'contact-list', resourceName: this.listName });
  }
}
