//! The SES contact-list adapter against a fake SES v2 endpoint on loopback: every page of
//! `ListContacts` is read (moto answers in one page, so the end-to-end tests cannot show
//! this), and each contact's standing on the topic comes from its preferences.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use stockpicks::adapters::aws::contacts::SesContactList;
use stockpicks::config::ContactListConfig;
use stockpicks::domain::reader::{to_mail, Standing};
use stockpicks::ports::Readers;
use tokio::net::TcpListener;

/// Serves `pages` in turn, each with a NextToken but the last; records each request's path
/// and body.
async fn fake_ses(pages: Vec<Value>) -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (log, pages) = (seen.clone(), Arc::new(pages));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (log, pages) = (log.clone(), pages.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let (log, pages) = (log.clone(), pages.clone());
                    async move {
                        let path = req.uri().path().to_string();
                        let body: Value =
                            serde_json::from_slice(&req.into_body().collect().await.unwrap().to_bytes()).unwrap_or(Value::Null);
                        let n = {
                            let mut log = log.lock().unwrap();
                            log.push((path, body));
                            log.len() - 1
                        };
                        let mut page = pages[n.min(pages.len() - 1)].clone();
                        if n + 1 < pages.len() {
                            page["NextToken"] = json!(format!("page-{}", n + 1));
                        }
                        Ok::<_, std::convert::Infallible>(
                            Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(page.to_string())))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    (url, seen)
}

fn contact(address: &str, topic_status: Option<&str>, default_status: Option<&str>, unsubscribe_all: bool) -> Value {
    let pref = |s: Option<&str>| s.map(|s| vec![json!({"TopicName": "weekly-picks", "SubscriptionStatus": s})]).unwrap_or_default();
    json!({
        "EmailAddress": address,
        "TopicPreferences": pref(topic_status),
        "TopicDefaultPreferences": pref(default_status),
        "UnsubscribeAll": unsubscribe_all,
        "LastUpdatedTimestamp": 1.7648e9,
    })
}

#[tokio::test]
async fn every_page_of_the_contact_list_is_read_and_only_opted_in_contacts_are_mailed() {
    let pages = vec![
        json!({"Contacts": [contact("a@x.io", Some("OPT_IN"), None, false), contact("left@x.io", Some("OPT_OUT"), Some("OPT_IN"), false)]}),
        json!({"Contacts": [contact("b@x.io", None, Some("OPT_IN"), false), contact("all@x.io", Some("OPT_IN"), None, true)]}),
        json!({"Contacts": [contact("c@x.io", Some("OPT_IN"), None, false), contact("silent@x.io", None, None, false)]}),
    ];
    let (url, seen) = fake_ses(pages).await;
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&url)
        .credentials_provider(aws_sdk_sesv2::config::SharedCredentialsProvider::new(aws_sdk_sesv2::config::Credentials::for_tests()))
        .build();
    let list = SesContactList::new(
        aws_sdk_sesv2::Client::new(&sdk),
        ContactListConfig { name: "stockpicks-test".into(), topic: "weekly-picks".into() },
    );
    let all = list.list().await.unwrap();
    let standing = |a: &str| all.iter().find(|s| s.address == a).map(|s| s.standing);
    assert_eq!(all.len(), 6, "three pages of two: {all:?}");
    assert_eq!(standing("a@x.io"), Some(Standing::Subscribed));
    assert_eq!(standing("left@x.io"), Some(Standing::Unsubscribed), "their own opt-out beats the default");
    assert_eq!(standing("b@x.io"), Some(Standing::Subscribed), "the topic's default opt-in");
    assert_eq!(standing("all@x.io"), Some(Standing::Unsubscribed), "unsubscribed from the whole list");
    assert_eq!(standing("silent@x.io"), Some(Standing::Unsubscribed), "no word on the topic: not mailed");
    assert_eq!(to_mail(all.clone()), ["a@x.io", "b@x.io", "c@x.io"]);
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 3);
    for (path, _) in &requests {
        assert_eq!(path, "/v2/email/contact-lists/stockpicks-test/contacts/list");
    }
    assert_eq!(requests[0].1.get("NextToken"), None);
    assert_eq!(requests[1].1["NextToken"], "page-1");
    assert_eq!(requests[2].1["NextToken"], "page-2");
    assert_eq!(requests[0].1["PageSize"], 1000);
}
