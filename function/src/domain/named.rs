//! `NamedMap`: a small map from shared names to values, kept in the model's order and
//! serialised as a JSON object. A ranked stock carries three of these; as `Vec`s of exact
//! size they cost one allocation each instead of a B-tree's several nodes.

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub struct NamedMap<V>(Vec<(Arc<str>, V)>);

impl<V> Default for NamedMap<V> {
    fn default() -> Self {
        NamedMap(Vec::new())
    }
}

impl<V> NamedMap<V> {
    pub fn with_capacity(n: usize) -> Self {
        NamedMap(Vec::with_capacity(n))
    }

    /// Appends; names are expected to be unique (they come from a validated model).
    pub fn push(&mut self, name: Arc<str>, v: V) {
        self.0.push((name, v));
    }

    pub fn get(&self, name: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| &**k == name).map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (&**k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| &**k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V> std::ops::Index<&str> for NamedMap<V> {
    type Output = V;
    fn index(&self, name: &str) -> &V {
        self.get(name).unwrap_or_else(|| panic!("no entry {name:?}"))
    }
}

impl<V: Serialize> Serialize for NamedMap<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(&**k, v)?;
        }
        m.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for NamedMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V_<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V_<V> {
            type Value = NamedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = NamedMap::with_capacity(a.size_hint().unwrap_or(0));
                while let Some((k, v)) = a.next_entry::<String, V>()? {
                    out.push(Arc::from(k), v);
                }
                Ok(out)
            }
        }
        d.deserialize_map(V_(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_round_trips_as_an_object() {
        let mut m = NamedMap::default();
        m.push(Arc::from("value"), 1.5);
        m.push(Arc::from("analyst"), 2.0);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"value":1.5,"analyst":2.0}"#);
        let back: NamedMap<f64> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(m["analyst"], 2.0);
        assert_eq!(m.get("nope"), None);
    }
}
