// Issue 15: readers are contacts of an SES contact list with a topic, not addresses in the
// template, the function's environment or the PR diff. The stack creates the list (retained)
// or uses the account's existing one; the function may list its contacts and nothing more;
// the account's SES reputation (bounce and complaint rates) is alarmed on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_RECIPIENTS } from '../bin/app';
import { PROD_EMAILS, resolver, synth } from './helpers';

const base = synth();
const tpl = base.template.toJSON() as any;
const res: Record<string, any> = tpl.Resources;
const ofType = (r: Record<string, any>, type: string) => Object.entries(r).filter(([, x]) => x.Type === type);
const fnOf = (r: Record<string, any>, name = 'stockpicks-prod') => ofType(r, 'AWS::Lambda::Function').find(([, x]) => x.Properties.FunctionName === name)![1];
const sesStatements = (r: Record<string, any>) => ofType(r, 'AWS::IAM::Policy')
  .flatMap(([, x]) => x.Properties.PolicyDocument.Statement)
  .filter((st: any) => [].concat(st.Action).some((a: string) => a.startsWith('ses:')));
/** Every e-mail address anywhere in the template, as text. */
const ADDRESS = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

describe('no reader address in the stack', () => {
  it('names only the sender and the alarm address anywhere in the template', () => {
    const found = new Set(JSON.stringify(tpl).match(ADDRESS) ?? []);
    assert.deepEqual([...found].sort(), [PROD_EMAILS.alarmEmail, PROD_EMAILS.emailSender].sort());
  });

  it('gives the function no EMAIL_RECIPIENT, and the contact list and topic instead', () => {
    const env = fnOf(res).Properties.Environment.Variables;
    assert.equal(env.EMAIL_RECIPIENT, undefined);
    assert.equal(env.EMAIL_RECIPIENTS, undefined);
    const { resolve } = resolver(tpl);
    assert.equal(resolve(env.SES_CONTACT_LIST), 'stockpicks-prod');
    assert.equal(env.SES_CONTACT_TOPIC, 'weekly-picks');
  });

  it('refuses -c emailRecipients, saying where readers went', () => {
    for (const v of ['ann@readers.test,bob@readers.test', 'reader@stockpicks.test', '']) {
      assert.throws(() => synth({ ...PROD_EMAILS, emailRecipients: v }), (e: Error) => e.message === NO_RECIPIENTS);
    }
    assert.match(NO_RECIPIENTS, /readers are no longer part of the stack/);
    assert.match(NO_RECIPIENTS, /stockpicks subscribers add ADDRESS/);
    assert.match(NO_RECIPIENTS, /SES contact list/);
  });
});

describe('the contact list', () => {
  it('is created by default: one list stockpicks-STAGE, one topic, OPT_IN, retained', () => {
    const lists = ofType(res, 'AWS::SES::ContactList');
    assert.equal(lists.length, 1);
    const [id, list] = lists[0];
    assert.equal(list.Properties.ContactListName, 'stockpicks-prod');
    assert.equal(list.Properties.Topics.length, 1);
    const [topic] = list.Properties.Topics;
    assert.equal(topic.TopicName, 'weekly-picks');
    assert.equal(topic.DefaultSubscriptionStatus, 'OPT_IN');
    assert.ok(topic.DisplayName.length > 0 && topic.DisplayName.length <= 128);
    // Deleting the stack (or replacing the list) must not drop every subscriber.
    assert.equal(list.DeletionPolicy, 'Retain');
    assert.equal(list.UpdateReplacePolicy, 'Retain');
    // The function comes after the list it reads, and the CLI finds it in the outputs.
    assert.deepEqual(fnOf(res).Properties.Environment.Variables.SES_CONTACT_LIST, { Ref: id });
    assert.deepEqual(tpl.Outputs.ContactListName.Value, { Ref: id });
    assert.equal(tpl.Outputs.ContactTopicName.Value, 'weekly-picks');
  });

  it('follows the stage and -c contactTopic', () => {
    const dev = synth({ stage: 'dev', contactTopic: 'picks_v2' }).template.toJSON().Resources as Record<string, any>;
    const [[, list]] = ofType(dev, 'AWS::SES::ContactList');
    assert.equal(list.Properties.ContactListName, 'stockpicks-dev');
    assert.equal(list.Properties.Topics[0].TopicName, 'picks_v2');
    assert.equal(fnOf(dev, 'stockpicks-dev').Properties.Environment.Variables.SES_CONTACT_TOPIC, 'picks_v2');
  });

  it('with -c contactList=existing, creates none and points the function and its grant at that list', () => {
    const t = synth({ ...PROD_EMAILS, contactList: 'existing' }).template.toJSON() as any;
    const r: Record<string, any> = t.Resources;
    assert.equal(ofType(r, 'AWS::SES::ContactList').length, 0);
    const env = fnOf(r).Properties.Environment.Variables;
    assert.equal(env.SES_CONTACT_LIST, 'existing');
    assert.equal(env.SES_CONTACT_TOPIC, 'weekly-picks');
    const { resolve } = resolver(t);
    const list = sesStatements(r).filter((st: any) => [].concat(st.Action).includes('ses:ListContacts' as never));
    assert.equal(list.length, 1);
    assert.deepEqual([].concat(resolve(list[0].Resource)), ['arn:aws:ses:us-east-1:111122223333:contact-list/existing']);
    assert.equal(t.Outputs.ContactListName.Value, 'existing');
  });

  // The CloudFormation patterns of ContactListName and TopicName: ^[a-zA-Z0-9_-]{1,64}$.
  it('refuses names SES would refuse, with the key named', () => {
    assert.throws(() => synth({ ...PROD_EMAILS, contactList: 'my list' }), /contactList=my list/);
    assert.throws(() => synth({ ...PROD_EMAILS, contactList: 'x'.repeat(65) }), /contactList=x{65}/);
    assert.throws(() => synth({ ...PROD_EMAILS, contactTopic: 'weekly.picks' }), /contactTopic=weekly\.picks/);
    assert.throws(() => synth({ ...PROD_EMAILS, contactTopic: 't'.repeat(65) }), /contactTopic=t{65}/);
    synth({ ...PROD_EMAILS, contactList: 'A_b-9'.repeat(12) + 'abcd', contactTopic: 'T'.repeat(64) });
  });
});

describe('the function\'s grant on the list', () => {
  it('is ses:ListContacts on exactly that list ARN, and no contact management', () => {
    const { resolve } = resolver(tpl);
    const st = sesStatements(res);
    const list = st.filter((s: any) => [].concat(s.Action).includes('ses:ListContacts' as never));
    assert.equal(list.length, 1);
    assert.deepEqual([].concat(list[0].Action), ['ses:ListContacts']);
    assert.deepEqual([].concat(resolve(list[0].Resource)), ['arn:aws:ses:us-east-1:111122223333:contact-list/stockpicks-prod']);
    const actions = st.flatMap((s: any) => [].concat(s.Action));
    for (const a of ['ses:CreateContact', 'ses:DeleteContact', 'ses:UpdateContact', 'ses:DeleteContactList', 'ses:*']) assert.ok(!actions.includes(a as never), a);
  });
});

describe('SES reputation alarms', () => {
  const alarm = (id: string) => ofType(res, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties).find((p) => p.AlarmName === `stockpicks-prod-${id}`);
  // "The values of Reputation.BounceRate and Reputation.ComplaintRate are decimal numbers
  // between 0 and 1" (https://docs.aws.amazon.com/ses/latest/DeveloperGuide/reputationdashboard-cloudwatch-alarm.html):
  // SES reviews an account at a 0.1% complaint rate and a 5% bounce rate.
  for (const [id, metric, threshold] of [['ComplaintRate', 'Reputation.ComplaintRate', 0.001], ['BounceRate', 'Reputation.BounceRate', 0.05]] as const) {
    it(`alarms on AWS/SES ${metric} (no dimensions) at ${threshold}`, () => {
      const a = alarm(id);
      assert.ok(a, id);
      assert.equal(a.Namespace, 'AWS/SES');
      assert.equal(a.MetricName, metric);
      assert.equal(a.Dimensions, undefined, 'account-level: no dimensions');
      assert.equal(a.Threshold, threshold);
      assert.equal(a.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
      // Not published continuously: missing data is no news, not a breach.
      assert.equal(a.TreatMissingData, 'notBreaching');
      assert.equal(a.AlarmActions.length, 1);
    });
  }

  it('shows both rates on the dashboard', () => {
    const [[, dash]] = ofType(res, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dash.Properties.DashboardBody);
    assert.ok(body.includes('Reputation.ComplaintRate') && body.includes('Reputation.BounceRate'));
  });
});
