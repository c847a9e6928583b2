//! The `providers:` section of the config file, read against the provider registry: a provider
//! the registry does not list, or a key its provider does not take, is an error naming it and
//! what is accepted (with the line and column), and each value is read as its setting's kind.

use std::collections::BTreeMap;

use llm::registry::{self, Kind, ProviderSpec, SettingSpec};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

/// One value of a provider's section as the file gives it, typed by its setting's kind.
#[derive(Debug, Clone, PartialEq)]
pub enum FileValue {
    Text(String),
    Count(u32),
    Number(f64),
}

impl FileValue {
    pub(super) fn to_json(&self) -> Option<serde_json::Value> {
        match self {
            FileValue::Text(t) => Some(t.as_str().into()),
            FileValue::Count(n) => Some((*n).into()),
            FileValue::Number(x) => serde_json::Number::from_f64(*x).map(serde_json::Value::Number),
        }
    }
}

/// The `providers:` section: for each registered provider it names, the values it sets, by key.
/// Reading it rejects a provider the registry does not list and a key the provider does not
/// take, naming both, and reads each value as its setting's kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderSections(BTreeMap<&'static str, BTreeMap<&'static str, FileValue>>);

impl ProviderSections {
    /// `providers.<provider>.<key>`, if the file sets it.
    pub fn get(&self, provider: &str, key: &str) -> Option<&FileValue> {
        self.0.get(provider).and_then(|s| s.get(key))
    }

    /// The first value its setting does not accept, as its key (`providers.<name>.<key>`) and
    /// why. Ranges are checked before texts, provider by provider.
    pub fn invalid(&self) -> Option<(String, String)> {
        registry::PROVIDERS.iter().find_map(|spec| {
            let mut settings: Vec<&SettingSpec> = spec.all_settings().collect();
            settings.sort_by_key(|s| matches!(s.kind, Kind::Text(_)));
            settings.into_iter().find_map(|setting| {
                let value = self.get(spec.name, setting.key)?;
                let why = check(spec, setting, value).err()?;
                Some((format!("providers.{}.{}", spec.name, setting.key), why))
            })
        })
    }
}

/// serde's wording for an unknown field, listing what is accepted (the deserializer adds where).
fn unknown_field<E: de::Error>(field: &str, expected: impl Iterator<Item = &'static str>) -> E {
    E::custom(format!(
        "unknown field `{field}`, expected one of {}",
        expected.collect::<Vec<_>>().join(", ")
    ))
}

impl<'de> Deserialize<'de> for ProviderSections {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Sections;
        impl<'de> Visitor<'de> for Sections {
            type Value = ProviderSections;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map from provider names to their settings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(spec) = map.next_key_seed(ProviderName)? {
                    out.insert(spec.name, map.next_value_seed(Section(spec))?);
                }
                Ok(ProviderSections(out))
            }
        }
        deserializer.deserialize_map(Sections)
    }
}

/// A key of `providers:`: a registered provider.
struct ProviderName;

impl<'de> DeserializeSeed<'de> for ProviderName {
    type Value = &'static ProviderSpec;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let name = String::deserialize(d)?;
        registry::find(&name).ok_or_else(|| unknown_field(&name, registry::names()))
    }
}

/// One provider's section; empty (`bedrock:`) sets nothing.
struct Section(&'static ProviderSpec);

impl<'de> DeserializeSeed<'de> for Section {
    type Value = BTreeMap<&'static str, FileValue>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Section {
    type Value = BTreeMap<&'static str, FileValue>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "the settings of {}", self.0.name)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(BTreeMap::new())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(BTreeMap::new())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(setting) = map.next_key_seed(SettingKey(self.0))? {
            if let Some(value) = map.next_value_seed(SettingValue(setting.kind))? {
                out.insert(setting.key, value);
            }
        }
        Ok(out)
    }
}

/// A key of a provider's section: one of its settings the file may set.
struct SettingKey(&'static ProviderSpec);

impl<'de> DeserializeSeed<'de> for SettingKey {
    type Value = &'static SettingSpec;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let key = String::deserialize(d)?;
        self.0
            .setting(&key)
            .filter(|s| s.in_file)
            .ok_or_else(|| unknown_field(&key, self.0.file_keys()))
    }
}

/// A value, read as its setting's kind; `~` is unset.
struct SettingValue(Kind);

impl<'de> DeserializeSeed<'de> for SettingValue {
    type Value = Option<FileValue>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Ok(match self.0 {
            Kind::Text(_) => Option::<String>::deserialize(d)?.map(FileValue::Text),
            Kind::Count { .. } => Option::<u32>::deserialize(d)?.map(FileValue::Count),
            Kind::Temperature { .. } => Option::<f64>::deserialize(d)?.map(FileValue::Number),
        })
    }
}

/// Whether `value` is acceptable for `setting` of `spec`, and if not, why.
fn check(spec: &ProviderSpec, setting: &SettingSpec, value: &FileValue) -> Result<(), String> {
    match (setting.kind, value) {
        (
            Kind::Count {
                min,
                max: Some(max),
            },
            FileValue::Count(n),
        ) if !(min..=max).contains(n) => Err(format!("{n} is outside {min}–{max}")),
        (Kind::Count { min, max: None }, FileValue::Count(n)) if *n < min => {
            Err(format!("must be at least {min}"))
        }
        (Kind::Temperature { max }, FileValue::Number(t))
            if !(t.is_finite() && (0.0..=max).contains(t)) =>
        {
            Err(format!("{t} is outside 0–{max} ({}'s range)", spec.name))
        }
        (Kind::Text(Some(check)), FileValue::Text(t)) => check(t),
        _ => Ok(()),
    }
}
