//! Reading a page of JSON straight into records: serde seeds that write each item's
//! string values into the page's text and its other values into slots.

use std::sync::Arc;

use rhai::{Dynamic, ImmutableString};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::*;

/// Reads one page's JSON array of objects straight into records, without an intermediate
/// tree: one schema for the page (a record whose fields differ gets its own), string
/// values written one after another into one text. `with` names fields to add empty when
/// absent (the joined names), so they can be filled in place.
pub struct PageReader<'w> {
    with: &'w [&'static str],
    /// The string values read so far.
    text: String,
    schemas: Vec<Arc<Schema>>,
    /// The schema of the record read last.
    last: Option<Arc<Schema>>,
    /// The names of the record being read when they differ from the record before
    /// (kept between records, so as not to allocate them each time).
    names: Vec<ImmutableString>,
    /// The values of the records read so far, each record's in a run.
    slots: Vec<Slot>,
    /// The values read so far that are no slot of their own.
    others: Vec<Dynamic>,
}

/// A field's value as read: a slot, or a value to keep among the page's others.
enum Read {
    Slot(Slot),
    Other(Dynamic),
}

impl<'w> PageReader<'w> {
    /// A reader of a page of `size` bytes of JSON, adding the fields `with`.
    pub fn new(with: &'w [&'static str], size: usize) -> PageReader<'w> {
        // Sized up front rather than grown (and copied) a dozen times: a task's values
        // take about 20 bytes of JSON each, string values about half of that, and a page
        // has some text besides. (Room never written to costs no memory.)
        let slots = Vec::with_capacity(size / 16);
        PageReader {
            with,
            text: String::with_capacity(size / 2),
            schemas: Vec::new(),
            last: None,
            names: Vec::new(),
            slots,
            others: Vec::new(),
        }
    }

    /// Read a JSON array of objects; anything else in the array becomes a plain value.
    /// (Pages are read through [`PageReader::seed`]; tests read bare arrays.)
    #[cfg(test)]
    pub fn read(with: &[&'static str], json: &str) -> Result<Vec<Dynamic>, serde_json::Error> {
        let mut reader = PageReader::new(with, json.len());
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let items = PageSeed(&mut reader).deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(items)
    }

    /// Reads a JSON array of objects as [`PageReader::read`] does, from within a larger
    /// document (the page's answer).
    pub fn seed<'de>(&mut self) -> impl DeserializeSeed<'de, Value = Vec<Dynamic>> + '_ {
        PageSeed(self)
    }

    /// The schema with these names, shared when an earlier record had the same.
    fn schema(&mut self, names: &[ImmutableString]) -> Arc<Schema> {
        let same = |s: &&Arc<Schema>| {
            s.text.len() == names.len() && s.text.iter().zip(names).all(|(a, b)| **a == *b.as_str())
        };
        if let Some(schema) = self.schemas.iter().find(same) {
            return schema.clone();
        }
        let schema = Arc::new(Schema::new(names));
        self.schemas.push(schema.clone());
        schema
    }

    /// A string value: written to the page's text and kept as its place there, or (longer
    /// than a slot can say, or past 4 GiB of text) a string of its own.
    fn text(&mut self, text: &str) -> Read {
        let at = u32::try_from(self.text.len()).ok();
        let end_fits = u32::try_from(self.text.len() + text.len()).is_ok();
        match (at, u16::try_from(text.len())) {
            (Some(at), Ok(len)) if end_fits => {
                self.text.push_str(text);
                Read::Slot(Slot::Text { at, len })
            }
            _ => Read::Other(ImmutableString::from(text).into()),
        }
    }

    /// The slot of a value read, keeping it among the page's others when it needs to be.
    fn keep<E: de::Error>(&mut self, read: Read) -> Result<Slot, E> {
        match read {
            Read::Slot(slot) => Ok(slot),
            Read::Other(value) => {
                let k = u32::try_from(self.others.len())
                    .map_err(|_| E::custom("too many values in one page"))?;
                self.others.push(value);
                Ok(Slot::Other(k))
            }
        }
    }
}

struct PageSeed<'r, 'w>(&'r mut PageReader<'w>);

impl<'de> DeserializeSeed<'de> for PageSeed<'_, '_> {
    type Value = Vec<Dynamic>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_, '_> {
    type Value = Vec<Dynamic>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let reader = self.0;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(ItemSeed(&mut *reader))? {
            items.push(item);
        }
        // The records are made once the page's values are all read, to share them.
        let page = Arc::new(Page {
            text: {
                // The room set aside and not used goes back: the text lives as long as
                // its records.
                reader.text.shrink_to_fit();
                std::mem::take(&mut reader.text)
            },
            slots: std::mem::take(&mut reader.slots),
            others: std::mem::take(&mut reader.others),
            late: OnceLock::new(),
        });
        Ok(items
            .into_iter()
            .map(|item| match item {
                Item::Record(schema, at) => Dynamic::from(Record {
                    schema,
                    page: page.clone(),
                    at,
                    late: true,
                    edits: None,
                }),
                Item::Plain(value) => value,
            })
            .collect())
    }
}

/// An item of a page as read: a record (its schema and where its values start), or any
/// other value.
enum Item {
    Record(Arc<Schema>, u32),
    Plain(Dynamic),
}

struct ItemSeed<'r, 'w>(&'r mut PageReader<'w>);

impl<'de> DeserializeSeed<'de> for ItemSeed<'_, '_> {
    type Value = Item;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemSeed<'_, '_> {
    type Value = Item;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an item")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Item, A::Error> {
        let reader = self.0;
        let start = reader.slots.len();
        let at = u32::try_from(start).map_err(|_| de::Error::custom("page too large"))?;
        let mut names = std::mem::take(&mut reader.names);
        names.clear();
        // Records of a page mostly have the fields of the one before, in the same order:
        // then its names (and schema) are reused without collecting them again. `names`
        // is filled only once a field differs.
        let last = reader.last.clone();
        let mut as_last = last.is_some();
        while let Some(StrText(key)) = access.next_key::<StrText<'de>>()? {
            // A JSON key is a string; serde's own `Cow<str>` would copy every one.
            let key = key.unwrap_or_default();
            let position = reader.slots.len() - start;
            let read = access.next_value_seed(ValueSeed(&mut *reader))?;
            let slot = reader.keep(read)?;
            reader.slots.push(slot);
            if let (true, Some(last)) = (as_last, &last) {
                if last.text.get(position).is_some_and(|n| **n == *key) {
                    continue;
                }
                as_last = false;
                names.extend_from_slice(&last.names[..position]);
            }
            names.push(ImmutableString::from(key.as_ref()));
        }
        let read = reader.slots.len() - start;
        let with = reader.with;
        let rest_added = |last: &Arc<Schema>| {
            last.names[read..]
                .iter()
                .all(|n| with.contains(&n.as_str()))
        };
        let schema = match last {
            // The fields of the record before, which had only `with` fields after them
            // (added, as they are to this one).
            Some(last) if as_last && rest_added(&last) => {
                reader.slots.resize(start + last.names.len(), Slot::Unit);
                last
            }
            last => {
                if let (true, Some(last)) = (as_last, last) {
                    // The first fields of the record before, and not the rest of them.
                    names.extend_from_slice(&last.names[..read]);
                }
                for field in reader.with {
                    if !names.iter().any(|n| n.as_str() == *field) {
                        names.push(ImmutableString::from(*field));
                        reader.slots.push(Slot::Unit);
                    }
                }
                reader.schema(&names)
            }
        };
        reader.last = Some(schema.clone());
        reader.names = names;
        Ok(Item::Record(schema, at))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Item, A::Error> {
        PlainVisitor.visit_seq(seq).map(Item::Plain)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Item, E> {
        PlainVisitor.visit_str(v).map(Item::Plain)
    }

    scalars!(Item::Plain);
}

/// A field's value: a string goes into the page's text, small integers, booleans and null
/// are slots of their own; anything else is a plain value (maps stay maps).
struct ValueSeed<'r, 'w>(&'r mut PageReader<'w>);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = Read;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_> {
    type Value = Read;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Read, E> {
        Ok(self.0.text(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Read, E> {
        Ok(i32::try_from(v).map_or_else(|_| Read::Other(v.into()), |i| Read::Slot(Slot::Int(i))))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Read, E> {
        match i64::try_from(v) {
            Ok(v) => self.visit_i64(v),
            // Integers beyond `i64` become floats, as everywhere else.
            Err(_) => Ok(Read::Other(Dynamic::from(v as f64))),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Read, E> {
        Ok(Read::Other(v.into()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Read, E> {
        Ok(Read::Slot(Slot::Bool(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Read, E> {
        Ok(Read::Slot(Slot::Unit))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Read, A::Error> {
        PlainVisitor.visit_seq(seq).map(Read::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Read, A::Error> {
        PlainVisitor.visit_map(map).map(Read::Other)
    }
}

/// Any JSON value as a plain Rhai value (maps stay maps).
struct PlainVisitor;

impl<'de> Visitor<'de> for PlainVisitor {
    type Value = Dynamic;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dynamic, E> {
        Ok(ImmutableString::from(v).into())
    }

    scalars!(std::convert::identity);

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Dynamic, A::Error> {
        let mut items = Array::new();
        while let Some(item) = seq.next_element_seed(PlainSeed)? {
            items.push(item);
        }
        Ok(Dynamic::from_array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Dynamic, A::Error> {
        let mut map = Map::new();
        while let Some(StrText(key)) = access.next_key::<StrText<'de>>()? {
            let key = key.unwrap_or_default();
            let value = access.next_value_seed(PlainSeed)?;
            map.insert(key.as_ref().into(), value);
        }
        Ok(Dynamic::from_map(map))
    }
}

struct PlainSeed;

impl<'de> DeserializeSeed<'de> for PlainSeed {
    type Value = Dynamic;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(PlainVisitor)
    }
}
