//! A compact map for big lists. A Rhai map is a B-tree that costs about 2 KB for an
//! extract task; 100,000 tasks held by a script came to almost 300 MiB. A `Record` keeps
//! the field names once per list (a shared schema); the values of all the records of a
//! page are one slice of eight-byte slots beside one text of the page's string values: a
//! string value is its place in that text until a script reads it, a small integer, a
//! boolean or null is the slot itself. Reading a page allocates only the records
//! themselves (a Rhai value each), the text and the few values that need more room; the
//! answer's body (keys, punctuation, side tables) is not kept, so the next page's answer
//! reuses its memory. To scripts a record reads like a map: `t.field`, `t["field"]`,
//! `"field" in t`, `t.keys()`, `t.values()`, `t.len()`, printing, `to_json`, `table`, and
//! assigning a field (a field the record does not have goes into a small map beside it).

use std::fmt;
use std::sync::{Arc, OnceLock};

use crate::wire::StrText;
use rhai::{Array, Dynamic, Engine, ImmutableString, Map};

/// Field names shared by the records of one page.
#[derive(Debug)]
pub struct Schema {
    names: Box<[ImmutableString]>,
    /// The same names as plain text, compared when looking a field up (cheaper than
    /// going through the shared strings).
    text: Box<[Box<str>]>,
    /// Where each of [`KNOWN_FIELDS`] is in `names` ([`ABSENT`] when it is not), so their
    /// getters find a field without comparing names.
    known: [u8; KNOWN_FIELDS.len()],
}

/// A known field the schema does not name.
const ABSENT: u8 = u8::MAX;

impl Schema {
    fn new(names: &[ImmutableString]) -> Schema {
        let mut known = [ABSENT; KNOWN_FIELDS.len()];
        for (slot, field) in known.iter_mut().zip(KNOWN_FIELDS) {
            if let Some(at) = names.iter().position(|n| n.as_str() == *field) {
                *slot = u8::try_from(at).unwrap_or(ABSENT);
            }
        }
        Schema {
            names: names.to_vec().into_boxed_slice(),
            text: names.iter().map(|n| n.as_str().into()).collect(),
            known,
        }
    }

    /// Where the field `name` is.
    fn position(&self, name: &str) -> Option<usize> {
        self.text.iter().position(|n| **n == *name)
    }
}

/// A field's value in a record as a page holds it, in eight bytes: a script holds about
/// ten per task. What does not fit is among the page's other values.
#[derive(Clone, Copy)]
enum Slot {
    /// A string in the page's text of values: where, in bytes.
    Text {
        at: u32,
        len: u16,
    },
    Int(i32),
    Bool(bool),
    Unit,
    /// Any other value: where it is among the page's other values.
    Other(u32),
}

/// What the records of a page share: their string values' text, all their values (each
/// record's in a run), and where their late fields come from.
struct Page {
    text: String,
    slots: Vec<Slot>,
    /// The values that are no [`Slot`] of their own (floats, lists, maps, large numbers,
    /// strings longer than 65,535 bytes).
    others: Vec<Dynamic>,
    late: OnceLock<Arc<dyn LateFields>>,
}

impl Page {
    /// The value a slot of this page holds.
    fn field(&self, slot: Slot) -> Field<'_> {
        match slot {
            Slot::Text { at, len } => Field::Text(self.text(at, len)),
            Slot::Int(i) => Field::Int(i.into()),
            Slot::Bool(b) => Field::Owned(b.into()),
            Slot::Unit => Field::Owned(Dynamic::UNIT),
            Slot::Other(k) => Field::Value(&self.others[k as usize]),
        }
    }

    /// The string at a text slot's place.
    fn text(&self, at: u32, len: u16) -> &str {
        let (at, len) = (at as usize, usize::from(len));
        // A place the reader wrote the string at, so it always is one.
        self.text.get(at..at + len).unwrap_or_default()
    }
}

/// A field of a record as it is held.
pub(crate) enum Field<'a> {
    Value(&'a Dynamic),
    /// A string still in the page's text.
    Text(&'a str),
    /// An integer the page holds in its slot.
    Int(rhai::INT),
    /// A value made when read: a late field worked out, or a boolean or unit the page
    /// holds in its slot.
    Owned(Dynamic),
}

impl Field<'_> {
    fn is_unit(&self) -> bool {
        match self {
            Field::Value(value) => value.is_unit(),
            Field::Text(_) | Field::Int(_) => false,
            Field::Owned(value) => value.is_unit(),
        }
    }

    fn into_dynamic(self) -> Dynamic {
        match self {
            Field::Value(value) => value.clone(),
            Field::Text(text) => ImmutableString::from(text).into(),
            Field::Int(i) => i.into(),
            Field::Owned(value) => value,
        }
    }
}

/// Fields a record gains from outside its own JSON, worked out when a script first reads
/// one: a task's names, from the side tables of the page it came in. Reading 10,000
/// tasks that a script only filters by priority then costs no name lookup at all.
pub trait LateFields: Send + Sync {
    /// The fields given this way; the records' schema has them, empty until read.
    fn fields(&self) -> &[&'static str];
    /// The value of `field` for `record` (unit when there is none).
    fn value(&self, record: &Record, field: &str) -> Dynamic;
}

/// A value of a record that has values of its own: still the page's, or written.
#[derive(Clone)]
enum Own {
    Page(Slot),
    Written(Dynamic),
}

/// A map-like value with a shared schema. Four words: a script holds one per task.
#[derive(Clone)]
pub struct Record {
    schema: Arc<Schema>,
    page: Arc<Page>,
    /// Where the record's values start among the page's.
    at: u32,
    /// The page's late fields still apply: the script has written none of them (a value
    /// the server sent for such a field is kept either way).
    late: bool,
    /// What the script wrote, shared by copies until one of them writes again (scripts
    /// copy records whenever they filter or sort a list).
    edits: Option<Arc<Edits>>,
}

/// A record's changes.
#[derive(Clone, Default)]
struct Edits {
    /// The record's own values, once one is written (until then the page's are used).
    own: Option<Box<[Own]>>,
    /// Fields assigned by the script that the schema does not name.
    extra: Map,
}

impl Record {
    /// The value in place `i` as held (a late field not worked out).
    fn held(&self, i: usize) -> Field<'_> {
        match self.edits.as_ref().and_then(|e| e.own.as_deref()) {
            Some(own) => match &own[i] {
                Own::Page(slot) => self.page.field(*slot),
                Own::Written(value) => Field::Value(value),
            },
            None => self.page.field(self.page.slots[self.at as usize + i]),
        }
    }

    /// The value of the field `KNOWN_FIELDS[k]`.
    pub(crate) fn get_known(&self, k: usize) -> Option<Dynamic> {
        self.field(Some(k), KNOWN_FIELDS[k])
            .map(Field::into_dynamic)
    }

    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<Dynamic> {
        self.field(None, name).map(Field::into_dynamic)
    }

    /// The field `name` (which is `KNOWN_FIELDS[k]` when `known` is `Some(k)`), as it is
    /// held: a late field still empty is worked out.
    pub(crate) fn field(&self, known: Option<usize>, name: &str) -> Option<Field<'_>> {
        let at = match known {
            Some(k) => Some(self.schema.known[k])
                .filter(|at| *at != ABSENT)
                .map(usize::from),
            None => self.schema.position(name),
        };
        match at {
            Some(at) => Some(self.field_at(at, name)),
            None => self.edits.as_ref()?.extra.get(name).map(Field::Value),
        }
    }

    /// The field in slot `i`, named `name`: a late field still empty is worked out.
    fn field_at(&self, i: usize, name: &str) -> Field<'_> {
        let held = self.held(i);
        if held.is_unit()
            && let Some(late) = self.late_fields(name)
        {
            return Field::Owned(late.value(self, name));
        }
        held
    }

    /// The late fields that give `name`, while they apply to this record.
    fn late_fields(&self, name: &str) -> Option<&Arc<dyn LateFields>> {
        if !self.late {
            return None;
        }
        self.page
            .late
            .get()
            .filter(|late| late.fields().contains(&name))
    }

    /// Give the records of this record's page late fields (see [`LateFields`]); a page
    /// keeps the first it is given.
    pub fn set_page_late(&self, late: Arc<dyn LateFields>) {
        let _ = self.page.late.set(late);
    }

    /// Set a field, adding it when the schema does not name it. Any write first fills in
    /// the late fields, as they are for the ids read: what is written stays (even unit),
    /// and a written id does not change or blank a name (the fields of a map do not
    /// depend on each other).
    pub fn set(&mut self, name: &str, value: Dynamic) {
        let late = self.page.late.get().filter(|_| self.late).cloned();
        if let Some(late) = late {
            for field in late.fields() {
                if let Some(i) = self.schema.position(field) {
                    let resolved = self.field_at(i, field).into_dynamic();
                    self.write(i, resolved);
                }
            }
            self.late = false;
        }
        match self.schema.position(name) {
            Some(i) => self.write(i, value),
            None => {
                self.edits_mut().extra.insert(name.into(), value);
            }
        }
    }

    /// The record's changes, its own (copied first when another record shares them).
    fn edits_mut(&mut self) -> &mut Edits {
        Arc::make_mut(self.edits.get_or_insert_with(Arc::default))
    }

    /// Write slot `i`, giving the record its own values first (the page's slots: its
    /// strings stay places in the page's text).
    fn write(&mut self, i: usize, value: Dynamic) {
        if self.edits.as_ref().is_none_or(|e| e.own.is_none()) {
            let at = self.at as usize;
            let slots = &self.page.slots[at..at + self.schema.names.len()];
            let own = slots.iter().map(|slot| Own::Page(*slot)).collect();
            self.edits_mut().own = Some(own);
        }
        if let Some(own) = self.edits_mut().own.as_mut() {
            own[i] = Own::Written(value);
        }
    }

    /// Every field and value, sorted by name as a Rhai map's are.
    pub fn to_map(&self) -> Map {
        let mut map: Map = self
            .schema
            .names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.as_str().into(), self.field_at(i, name).into_dynamic()))
            .collect();
        if let Some(edits) = &self.edits {
            map.extend(edits.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        map
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_map(), f)
    }
}

/// A map's or a record's fields as a map (an owned copy), for code that reads either.
pub fn as_map(value: &Dynamic) -> Option<Map> {
    if let Some(map) = value.read_lock::<Map>() {
        return Some(map.clone());
    }
    value.read_lock::<Record>().map(|r| r.to_map())
}

/// `value` with every record in it (at any depth) an ordinary map: Rhai's own notation
/// (`{:?}` of a `Dynamic`) shows a record only by its type name.
pub fn with_maps(value: &Dynamic) -> Dynamic {
    if let Some(record) = value.read_lock::<Record>() {
        return Dynamic::from_map(record.to_map());
    }
    if let Some(array) = value.read_lock::<rhai::Array>() {
        if array
            .iter()
            .any(|item| item.is::<Record>() || item.is_array() || item.is_map())
        {
            return Dynamic::from_array(array.iter().map(with_maps).collect());
        }
        return value.clone();
    }
    if let Some(map) = value.read_lock::<Map>() {
        return Dynamic::from_map(map.iter().map(|(k, v)| (k.clone(), with_maps(v))).collect());
    }
    value.clone()
}

/// One field of a map or a record.
pub fn field(value: &Dynamic, name: &str) -> Option<Dynamic> {
    if let Some(map) = value.read_lock::<Map>() {
        return map.get(name).cloned();
    }
    value.read_lock::<Record>()?.get(name)
}

/// A record's string field as text, made without a Rhai string in between (ids passed
/// back to the server); `None` for anything else.
pub fn string_field(value: &Dynamic, name: &str) -> Option<String> {
    let record = value.read_lock::<Record>()?;
    match record.field(known_field(name), name)? {
        Field::Text(text) => Some(text.to_string()),
        Field::Value(value) => value.read_lock::<ImmutableString>().map(|s| s.to_string()),
        Field::Int(_) | Field::Owned(_) => None,
    }
}

/// Whether a value is a map or a record.
pub fn is_map_like(value: &Dynamic) -> bool {
    value.is_map() || value.is::<Record>()
}

/// Fields read through a getter of their own; any other field is read through the
/// indexer, which Rhai tries after failing to find a getter (slower: the failed lookup
/// costs an error).
const KNOWN_FIELDS: &[&str] = &[
    "id",
    "priority",
    "type",
    "siteId",
    "scheduleId",
    "targetId",
    "targetType",
    "lastRunAt",
    "runNextAt",
    "scheduleName",
    "targetName",
    "siteName",
    "name",
];

/// A value as a message shows it: a record as the map it reads as (Rhai would show its
/// Rust type's name).
pub fn shown(value: &Dynamic) -> String {
    match value.read_lock::<Record>() {
        Some(record) => Dynamic::from_map(record.to_map()).to_string(),
        None => value.to_string(),
    }
}

/// Make records read like maps in scripts.
pub fn register(engine: &mut Engine) {
    for (k, field) in KNOWN_FIELDS.iter().enumerate() {
        engine
            .register_get(field, move |r: &mut Record| {
                r.get_known(k).unwrap_or(Dynamic::UNIT)
            })
            .register_set(field, move |r: &mut Record, value: Dynamic| {
                r.set(field, value)
            });
    }
    engine
        .register_type_with_name::<Record>("map")
        .register_indexer_get(|r: &mut Record, name: &str| r.get(name).unwrap_or(Dynamic::UNIT))
        .register_indexer_set(|r: &mut Record, name: &str, value: Dynamic| r.set(name, value))
        .register_fn("contains", |r: &mut Record, name: &str| {
            r.get(name).is_some()
        })
        .register_fn("keys", |r: &mut Record| -> Array {
            r.to_map()
                .into_keys()
                .map(|k| Dynamic::from(k.to_string()))
                .collect()
        })
        .register_fn("values", |r: &mut Record| -> Array {
            r.to_map().into_values().collect()
        })
        .register_fn("len", |r: &mut Record| {
            (r.schema.names.len() + r.edits.as_ref().map_or(0, |e| e.extra.len())) as rhai::INT
        })
        .register_fn("to_map", |r: &mut Record| r.to_map())
        .register_fn("to_string", |r: &mut Record| {
            Dynamic::from_map(r.to_map()).to_string()
        })
        .register_fn("to_debug", |r: &mut Record| {
            format!("{:?}", Dynamic::from_map(r.to_map()))
        });
    super::record_ops::register(engine);
}

/// The visits of JSON numbers, booleans and null for the visitors of plain values, the
/// same but for the type each wraps the Rhai value in (`$wrap`): integers beyond `i64`
/// become floats. (A record's own fields keep small ones in their slots: `ValueSeed`.)
macro_rules! scalars {
    ($wrap:expr) => {
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok($wrap(Dynamic::from(v)))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            let value = i64::try_from(v).map_or_else(|_| Dynamic::from(v as f64), Dynamic::from);
            Ok($wrap(value))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok($wrap(Dynamic::from(v)))
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok($wrap(Dynamic::from(v)))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($wrap(Dynamic::UNIT))
        }
    };
}

/// Where a field of [`KNOWN_FIELDS`] is in it, for [`Record::get_known`].
pub(crate) fn known_field(name: &str) -> Option<usize> {
    KNOWN_FIELDS.iter().position(|field| *field == name)
}

mod page_reader;

pub use page_reader::PageReader;

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        let mut engine = Engine::new();
        register(&mut engine);
        engine
    }

    #[test]
    fn a_page_reads_into_records_sharing_schema_and_text() {
        let items = PageReader::read(
            &["scheduleName"],
            r#"[{"id":"1","scheduleId":"4","priority":50,"lastRunAt":null,"tags":["a"]},
                {"id":"2","scheduleId":"4","priority":7,"lastRunAt":"2026-01-01T00:00:00Z","tags":[]},
                {"id":"3","scheduleId":"say \"hi\"\n","priority":-1,"lastRunAt":"é"}]"#,
        )
        .unwrap();
        assert_eq!(items.len(), 3);
        let [a, b, c] = [0, 1, 2].map(|i| items[i].read_lock::<Record>().unwrap().clone());
        assert!(Arc::ptr_eq(&a.schema, &b.schema));
        assert_eq!(a.get("priority").unwrap().as_int().unwrap(), 50);
        assert!(a.get("scheduleName").unwrap().is_unit(), "added empty");
        assert!(a.get("lastRunAt").unwrap().is_unit());
        assert!(a.get("tags").unwrap().is_array());
        let text = |r: &Record, field: &str| r.get(field).unwrap().into_string().unwrap();
        assert_eq!(text(&b, "lastRunAt"), "2026-01-01T00:00:00Z");
        assert_eq!(text(&b, "scheduleId"), "4");
        assert!(
            (0..b.schema.names.len())
                .all(|i| !matches!(b.held(i), Field::Value(v) if v.is_string())),
            "strings are places in the page's text"
        );
        assert_eq!(text(&c, "scheduleId"), "say \"hi\"\n", "escapes decoded");
        assert_eq!(text(&c, "lastRunAt"), "é");
        assert_eq!(c.get("priority").unwrap().as_int().unwrap(), -1);
    }

    #[test]
    fn a_record_is_four_words_and_a_value_eight_bytes() {
        // A script holds one record and about ten values per task: 100,000 tasks in the
        // scale test.
        assert_eq!(size_of::<Record>(), 4 * size_of::<usize>());
        assert_eq!(size_of::<Slot>(), 8);
    }

    #[test]
    fn every_kind_of_value_reads_back_as_sent() {
        let long = "x".repeat(70_000);
        let json = format!(
            r#"[{{"a":2147483647,"b":-2147483648,"c":2147483648,"d":-9007199254740993,
                "e":18446744073709551615,"f":1.5,"g":true,"h":false,"i":null,"j":"{long}",
                "k":"tab\there","l":[1,"x"],"m":{{"n":1}},"o":""}}]"#
        );
        let items = PageReader::read(&[], &json).unwrap();
        let record = items[0].read_lock::<Record>().unwrap().clone();
        let get = |f: &str| record.get(f).unwrap();
        assert_eq!(get("a").as_int(), Ok(2_147_483_647));
        assert_eq!(get("b").as_int(), Ok(-2_147_483_648));
        assert_eq!(get("c").as_int(), Ok(2_147_483_648));
        assert_eq!(get("d").as_int(), Ok(-9_007_199_254_740_993));
        assert_eq!(
            get("e").as_float(),
            Ok(18_446_744_073_709_551_615_u64 as f64)
        );
        assert_eq!(get("f").as_float(), Ok(1.5));
        assert_eq!(
            (get("g").as_bool(), get("h").as_bool()),
            (Ok(true), Ok(false))
        );
        assert!(get("i").is_unit());
        assert_eq!(get("j").into_string().unwrap(), long);
        assert_eq!(get("k").into_string().unwrap(), "tab\there");
        assert_eq!(get("l").into_array().unwrap().len(), 2);
        assert!(get("m").is_map());
        assert_eq!(get("o").into_string().unwrap(), "");
    }

    #[test]
    fn writing_a_record_leaves_the_others_of_its_page_alone() {
        let items = PageReader::read(
            &[],
            r#"[{"id":"1","priority":5,"type":"a"},{"id":"2","priority":6,"type":"b"}]"#,
        )
        .unwrap();
        let [mut a, b] = [0, 1].map(|i| items[i].read_lock::<Record>().unwrap().clone());
        let copy = a.clone();
        a.set("priority", Dynamic::from(99 as rhai::INT));
        a.set("note", Dynamic::from("x"));
        let int = |r: &Record, f: &str| r.get(f).unwrap().as_int().unwrap();
        assert_eq!(int(&a, "priority"), 99);
        assert_eq!(a.get("type").unwrap().to_string(), "a", "the rest kept");
        let type_at = a.schema.position("type").unwrap();
        assert!(
            matches!(a.held(type_at), Field::Text("a")),
            "still a place in the page's text"
        );
        assert_eq!(int(&b, "priority"), 6, "the next record of the page");
        assert_eq!(int(&copy, "priority"), 5, "a copy made before");
        assert_eq!(b.get("id").unwrap().to_string(), "2");
        assert!(b.get("note").is_none());
    }

    #[test]
    fn records_of_another_shape_keep_their_own_fields() {
        let items = PageReader::read(&["n"], r#"[{"id":"1","a":1,"b":2},{"id":"2","a":3},{"id":"3","a":4,"n":"x"},{"a":5,"id":"4"},{"id":"5","a":6}]"#)
            .unwrap();
        let keys: Vec<Vec<String>> = items
            .iter()
            .map(|item| {
                let record = item.read_lock::<Record>().unwrap();
                record.to_map().keys().map(|k| k.to_string()).collect()
            })
            .collect();
        assert_eq!(keys[0], ["a", "b", "id", "n"]);
        assert_eq!(
            keys[1],
            ["a", "id", "n"],
            "no `b` borrowed from the record before"
        );
        assert_eq!(keys[2], ["a", "id", "n"]);
        assert_eq!(keys[3], ["a", "id", "n"]);
        let third = items[2].read_lock::<Record>().unwrap().clone();
        assert_eq!(
            third.get("n").unwrap().to_string(),
            "x",
            "a `with` field sent is kept"
        );
        let fifth = items[4].read_lock::<Record>().unwrap().clone();
        assert_eq!(fifth.get("a").unwrap().as_int().unwrap(), 6);
        assert!(fifth.get("n").unwrap().is_unit());
    }

    /// Late fields that name a record by its id and count how often they are asked.
    struct Named(std::sync::atomic::AtomicUsize);

    impl LateFields for Named {
        fn fields(&self) -> &[&'static str] {
            &["name", "other"]
        }

        fn value(&self, record: &Record, field: &str) -> Dynamic {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let id = record.get("id").unwrap().to_string();
            format!("{field} of {id}").into()
        }
    }

    #[test]
    fn late_fields_are_worked_out_when_read_and_stay_once_written() {
        let items = PageReader::read(
            &["name", "other"],
            r#"[{"id":"1"},{"id":"2","other":"sent"}]"#,
        )
        .unwrap();
        let late = Arc::new(Named(Default::default()));
        let mut records: Vec<Record> = items
            .iter()
            .map(|item| item.read_lock::<Record>().unwrap().clone())
            .collect();
        records[0].set_page_late(late.clone());
        assert_eq!(
            late.0.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "nothing read yet"
        );
        assert_eq!(records[0].get("name").unwrap().to_string(), "name of 1");
        assert_eq!(
            records[1].get("other").unwrap().to_string(),
            "sent",
            "a sent value is kept"
        );
        let map = records[1].to_map();
        assert_eq!(map["name"].to_string(), "name of 2");
        let copy = records[0].clone();
        records[0].set("name", Dynamic::UNIT);
        assert!(
            records[0].get("name").unwrap().is_unit(),
            "a written unit stays"
        );
        assert_eq!(records[0].get("other").unwrap().to_string(), "other of 1");
        assert_eq!(
            copy.get("name").unwrap().to_string(),
            "name of 1",
            "copies are apart"
        );
        // A written id leaves the names as they were for the id read.
        let mut moved = records[1].clone();
        moved.set("id", Dynamic::from("5"));
        assert_eq!(moved.get("name").unwrap().to_string(), "name of 2");
        let engine = engine();
        let mut scope = rhai::Scope::new();
        scope.push("t", Dynamic::from(copy));
        let read: String = engine
            .eval_with_scope(&mut scope, r#"`${t.name}|${t["other"]}|${"name" in t}`"#)
            .unwrap();
        assert_eq!(read, "name of 1|other of 1|true");
    }

    #[test]
    fn scripts_read_and_write_records_like_maps() {
        let engine = engine();
        let items = PageReader::read(&[], r#"[{"id":"9","priority":50}]"#).unwrap();
        let mut scope = rhai::Scope::new();
        scope.push("t", items[0].clone());
        let result: String = engine
            .eval_with_scope(
                &mut scope,
                r#"
                let a = t.id + "/" + t["priority"];
                let has = ("id" in t) && !("nope" in t);
                t.priority = 7;
                t.note = "x";
                `${a} ${has} ${t.priority} ${t.note} ${t.keys()} ${t.len()} ${type_of(t)} ${t.missing}`
                "#,
            )
            .unwrap();
        assert_eq!(result, r#"9/50 true 7 x ["id", "note", "priority"] 3 map "#);
    }
}
