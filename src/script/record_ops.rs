//! The rest of what a map does, for task records: comparing (`==`, `!=`, and so
//! `contains`, `index_of` and `dedup` on arrays of tasks), joining with maps (`+`, `+=`,
//! `mixin`), `is_empty`, `get`, `set`, `filter`, and the changes that take fields away
//! (`remove`, `clear`, `drain`, `retain`, `fill_with`), which first turn the record into
//! an ordinary map in place. Each works on the record's fields as [`Record::to_map`]
//! gives them, through the map's own function, so it behaves exactly as on a map.

use rhai::{Dynamic, Engine, EvalAltResult, FnPtr, ImmutableString, Map, NativeCallContext};

use super::record::Record;

type Out<T> = Result<T, Box<EvalAltResult>>;

/// The map function `name` called with `first` and then `rest`.
fn map_call(ctx: &NativeCallContext, name: &str, first: Map, rest: &mut [Dynamic]) -> Out<Dynamic> {
    let mut first = Dynamic::from_map(first);
    call_on(ctx, name, &mut first, rest)
}

fn call_on(
    ctx: &NativeCallContext,
    name: &str,
    first: &mut Dynamic,
    rest: &mut [Dynamic],
) -> Out<Dynamic> {
    let mut args: Vec<&mut Dynamic> = std::iter::once(first).chain(rest.iter_mut()).collect();
    ctx.call_native_fn_raw(name, true, &mut args)
}

/// A map method that changes what fields there are: a record `target` becomes an ordinary
/// map first. Any other value has no such method.
fn in_place(
    ctx: &NativeCallContext,
    name: &str,
    target: &mut Dynamic,
    rest: &mut [Dynamic],
) -> Out<Dynamic> {
    let map = target.read_lock::<Record>().map(|r| r.to_map());
    let Some(map) = map else {
        let types: Vec<&str> = std::iter::once(target.type_name())
            .chain(rest.iter().map(Dynamic::type_name))
            .collect();
        return Err(EvalAltResult::ErrorFunctionNotFound(
            format!("{name} ({})", types.join(", ")),
            ctx.call_position(),
        )
        .into());
    };
    *target = Dynamic::from_map(map);
    call_on(ctx, name, target, rest)
}

fn equal(ctx: &NativeCallContext, a: Map, b: Map) -> Out<bool> {
    map_call(ctx, "==", a, &mut [Dynamic::from_map(b)])?
        .as_bool()
        .map_err(|t| format!("== gave {t}").into())
}

/// `fields` written into the record (it stays a record).
fn set_all(record: &mut Record, fields: Map) {
    for (k, v) in fields {
        record.set(&k, v);
    }
}

fn joined(mut a: Map, b: Map) -> Map {
    a.extend(b);
    a
}

/// Register the map operations for records.
pub fn register(engine: &mut Engine) {
    engine
        .register_fn("==", |ctx: NativeCallContext, a: &mut Record, b: Record| {
            equal(&ctx, a.to_map(), b.to_map())
        })
        .register_fn("==", |ctx: NativeCallContext, a: &mut Record, b: Map| {
            equal(&ctx, a.to_map(), b)
        })
        .register_fn("==", |ctx: NativeCallContext, a: &mut Map, b: Record| {
            equal(&ctx, a.clone(), b.to_map())
        })
        .register_fn("!=", |ctx: NativeCallContext, a: &mut Record, b: Record| {
            equal(&ctx, a.to_map(), b.to_map()).map(|e| !e)
        })
        .register_fn("!=", |ctx: NativeCallContext, a: &mut Record, b: Map| {
            equal(&ctx, a.to_map(), b).map(|e| !e)
        })
        .register_fn("!=", |ctx: NativeCallContext, a: &mut Map, b: Record| {
            equal(&ctx, a.clone(), b.to_map()).map(|e| !e)
        })
        .register_fn("+", |a: &mut Record, b: Map| joined(a.to_map(), b))
        .register_fn("+", |a: &mut Map, b: Record| joined(a.clone(), b.to_map()))
        .register_fn("+", |a: &mut Record, b: Record| {
            joined(a.to_map(), b.to_map())
        })
        .register_fn("+=", |a: &mut Map, b: Record| a.extend(b.to_map()))
        .register_fn("mixin", |a: &mut Map, b: Record| a.extend(b.to_map()))
        .register_fn("+=", set_all)
        .register_fn("mixin", set_all)
        .register_fn("is_empty", |r: &mut Record| r.to_map().is_empty())
        .register_fn("get", |r: &mut Record, name: &str| {
            r.get(name).unwrap_or(Dynamic::UNIT)
        })
        .register_fn("set", |r: &mut Record, name: &str, value: Dynamic| {
            r.set(name, value)
        })
        .register_fn(
            "filter",
            |ctx: NativeCallContext, r: &mut Record, f: FnPtr| {
                map_call(&ctx, "filter", r.to_map(), &mut [Dynamic::from(f)])
            },
        )
        .register_fn("map", |ctx: NativeCallContext, r: &mut Record, f: FnPtr| {
            map_call(&ctx, "map", r.to_map(), &mut [Dynamic::from(f)])
        })
        .register_fn("+=", |a: &mut Record, b: Record| set_all(a, b.to_map()))
        .register_fn("mixin", |a: &mut Record, b: Record| set_all(a, b.to_map()))
        .register_fn("fill_with", |a: &mut Map, b: Record| {
            for (k, v) in b.to_map() {
                a.entry(k).or_insert(v);
            }
        })
        .register_fn(
            "fill_with",
            |ctx: NativeCallContext, t: &mut Dynamic, b: Record| {
                in_place(&ctx, "fill_with", t, &mut [Dynamic::from_map(b.to_map())])
            },
        )
        .register_fn(
            "remove",
            |ctx: NativeCallContext, t: &mut Dynamic, name: ImmutableString| {
                in_place(&ctx, "remove", t, &mut [Dynamic::from(name)])
            },
        )
        .register_fn("clear", |ctx: NativeCallContext, t: &mut Dynamic| {
            in_place(&ctx, "clear", t, &mut [])
        })
        .register_fn(
            "drain",
            |ctx: NativeCallContext, t: &mut Dynamic, f: FnPtr| {
                in_place(&ctx, "drain", t, &mut [Dynamic::from(f)])
            },
        )
        .register_fn(
            "retain",
            |ctx: NativeCallContext, t: &mut Dynamic, f: FnPtr| {
                in_place(&ctx, "retain", t, &mut [Dynamic::from(f)])
            },
        )
        .register_fn(
            "fill_with",
            |ctx: NativeCallContext, t: &mut Dynamic, m: Map| {
                in_place(&ctx, "fill_with", t, &mut [Dynamic::from_map(m)])
            },
        );
}

#[cfg(test)]
mod tests {
    use rhai::{Dynamic, Engine, Scope};

    use crate::script::record::PageReader;

    const TASKS: &str =
        r#"[{"id":"1","priority":50,"scheduleId":"2"},{"id":"2","priority":10,"scheduleId":"2"}]"#;

    fn eval(code: &str) -> String {
        let mut engine = Engine::new();
        super::super::record::register(&mut engine);
        // Whether a value is still a record, not an ordinary map.
        engine.register_fn("is_record", |v: Dynamic| v.is::<super::Record>());
        let tasks = PageReader::read(&["id", "priority", "scheduleId"], TASKS).unwrap();
        let mut scope = Scope::new();
        scope.push("tasks", Dynamic::from_array(tasks));
        engine
            .eval_with_scope::<Dynamic>(&mut scope, code)
            .unwrap_or_else(|e| panic!("{code}: {e}"))
            .to_string()
    }

    #[test]
    fn a_record_does_what_a_map_does() {
        for (code, expected) in [
            ("let t = tasks[0]; t == t", "true"),
            ("tasks[0] == tasks[1]", "false"),
            ("tasks[0] != tasks[1]", "true"),
            (
                "tasks[0] == #{id: \"1\", priority: 50, scheduleId: \"2\"}",
                "true",
            ),
            ("tasks.contains(tasks[1])", "true"),
            ("tasks.index_of(tasks[1])", "1"),
            ("let a = [tasks[0], tasks[0]]; a.dedup(); a.len()", "1"),
            ("(tasks[0] + #{note: 1}).note", "1"),
            ("let m = #{a: 1}; m += tasks[0]; m.len()", "4"),
            ("let m = #{a: 1}; m.mixin(tasks[0]); m.priority", "50"),
            ("let t = tasks[0]; t += #{priority: 3}; t.priority", "3"),
            ("tasks[0].is_empty()", "false"),
            ("tasks[0].get(\"priority\")", "50"),
            ("let t = tasks[0]; t.set(\"priority\", 7); t.priority", "7"),
            ("tasks[0].filter(|k, v| k == \"id\").len()", "1"),
            (
                "let t = tasks[0]; let p = t.remove(\"priority\"); `${p} ${t.len()} ${is_record(t)}`",
                "50 2 false",
            ),
            ("is_record(tasks[0])", "true"),
            ("tasks[0].map(|k, v| k).id", "id"),
            ("let t = tasks[0]; t += tasks[1]; t.id", "2"),
            ("let t = tasks[0]; t.mixin(tasks[1]); t.priority", "10"),
            (
                "let m = #{id: \"x\"}; m.fill_with(tasks[0]); `${m.id} ${m.priority}`",
                "x 50",
            ),
            (
                "let t = tasks[0]; t.fill_with(tasks[1]); `${t.id} ${is_record(t)}`",
                "1 false",
            ),
            ("let t = tasks[0]; t.clear(); t.len()", "0"),
            (
                "let t = tasks[0]; t.retain(|k, v| k == \"id\"); t.keys()",
                "[\"id\"]",
            ),
            ("let t = tasks[0]; t.drain(|k, v| k == \"id\").len()", "1"),
            (
                "let t = tasks[0]; t.fill_with(#{id: \"9\", extra: 1}); `${t.id} ${t.extra}`",
                "1 1",
            ),
            ("tasks[1].id", "2"),
        ] {
            assert_eq!(eval(code), expected, "{code}");
        }
    }

    #[test]
    fn other_values_still_have_no_such_methods() {
        let mut engine = Engine::new();
        super::super::record::register(&mut engine);
        let error = engine
            .eval::<Dynamic>("let x = 5; x.remove(\"a\")")
            .unwrap_err();
        assert!(
            error.to_string().contains("remove (i64, string)"),
            "{error}"
        );
    }
}
