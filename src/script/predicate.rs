//! Filter conditions run without the interpreter. `tasks.filter(|t| t.priority > 64 &&
//! t.scheduleId != target)` calls a Rhai closure once per task, and each call sets up a
//! fresh call frame, state and function caches: about 6,500 instructions, a third of
//! the client's time in the 10,000-task benchmark. A closure whose body is one condition
//! built from the item's fields, captured variables, literals, comparisons, `!`, `&&`
//! and `||` is read from the script's syntax tree once and evaluated here directly.
//!
//! Anything else (another expression, a value of a type not handled below, a map without
//! the field) is left to Rhai: the closure is then called for that item as usual, so
//! results and errors are Rhai's own. Evaluation has no side effects, so giving up half
//! way through an item is safe.

use rhai::{
    AST, ASTFlags, ASTNode, Dynamic, Expr, FnCallExpr, FnPtr, ImmutableString, Map, Module,
    NativeCallContext, Stmt, Token,
};

use super::record::{Field, Record, known_field};

/// A condition on one item.
#[derive(Debug)]
pub struct Predicate {
    root: Node,
}

#[derive(Debug)]
enum Node {
    /// A literal.
    Constant(Dynamic),
    /// The item itself.
    Item,
    /// A captured variable: the closure's curried value at this index.
    Captured(usize),
    /// A field of the item: `t.name` or `t["name"]` (and where it is among the fields
    /// records find by index).
    Field(ImmutableString, Option<usize>),
    Compare(Comparison, Box<Node>, Box<Node>),
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
}

#[derive(Debug, Clone, Copy)]
enum Comparison {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

impl Comparison {
    fn of(token: &Token) -> Option<Comparison> {
        Some(match token {
            Token::EqualsTo => Comparison::Equal,
            Token::NotEqualsTo => Comparison::NotEqual,
            Token::GreaterThan => Comparison::Greater,
            Token::GreaterThanEqualsTo => Comparison::GreaterOrEqual,
            Token::LessThan => Comparison::Less,
            Token::LessThanEqualsTo => Comparison::LessOrEqual,
            _ => return None,
        })
    }

    fn holds(self, order: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Comparison::Equal => order == Equal,
            Comparison::NotEqual => order != Equal,
            Comparison::Greater => order == Greater,
            Comparison::GreaterOrEqual => order != Less,
            Comparison::Less => order == Less,
            Comparison::LessOrEqual => order != Greater,
        }
    }
}

impl Predicate {
    /// The condition `f` computes for one item, when `f` is a script function (or
    /// closure) of that item, after its curried values, whose body is a condition this
    /// module can evaluate.
    pub fn of(ctx: &NativeCallContext, f: &FnPtr) -> Option<Predicate> {
        let arity = f.curry().len() + 1;
        let def = ctx
            .iter_namespaces()
            .find_map(|module| module.get_script_fn(f.fn_name(), arity))?;
        let params: Vec<&str> = def.params.iter().map(ImmutableString::as_str).collect();
        // The body is read by walking a syntax tree that holds only this function (the
        // body itself is not reachable otherwise); a top-level statement is a path of one.
        let mut lib = Module::new();
        lib.set_script_fn(def.clone());
        let (mut statements, mut root) = (0, None);
        AST::new([], lib).walk(&mut |path: &[ASTNode]| {
            if let [ASTNode::Stmt(statement)] = path {
                statements += 1;
                root = match statement {
                    Stmt::Expr(expr) => node(expr, &params),
                    Stmt::FnCall(call, _) => call_node(call, &params),
                    _ => None,
                };
            }
            true
        });
        let root = root.filter(|_| statements == 1)?;
        Some(Predicate { root })
    }

    /// Whether `item` passes, `None` when only Rhai can tell.
    pub fn test(&self, item: &Dynamic, captured: &[Dynamic]) -> Option<bool> {
        let record = item.read_lock::<Record>();
        let map = match record {
            Some(_) => None,
            None => item.read_lock::<Map>(),
        };
        let subject = Subject {
            item,
            record: record.as_deref(),
            map: map.as_deref(),
        };
        self.root.eval(&subject, captured)?.as_bool()
    }
}

/// The node for an expression in a function with these parameters (the item is last).
fn node(expr: &Expr, params: &[&str]) -> Option<Node> {
    Some(match expr {
        Expr::IntegerConstant(n, _) => Node::Constant((*n).into()),
        Expr::BoolConstant(b, _) => Node::Constant((*b).into()),
        Expr::StringConstant(s, _) => Node::Constant(s.clone().into()),
        Expr::CharConstant(c, _) => Node::Constant((*c).into()),
        Expr::Unit(_) => Node::Constant(Dynamic::UNIT),
        Expr::Variable(..) => variable(expr, params)?,
        Expr::Dot(binary, flags, _) if !flags.contains(ASTFlags::NEGATED) => {
            let Expr::Property(property, _) = &binary.rhs else {
                return None;
            };
            item_field(&binary.lhs, &property.2, params)?
        }
        Expr::Index(binary, flags, _) if !flags.contains(ASTFlags::NEGATED) => {
            let Expr::StringConstant(name, _) = &binary.rhs else {
                return None;
            };
            item_field(&binary.lhs, name, params)?
        }
        Expr::FnCall(call, _) => call_node(call, params)?,
        Expr::And(operands, _) => Node::And(nodes(operands, params)?),
        Expr::Or(operands, _) => Node::Or(nodes(operands, params)?),
        _ => return None,
    })
}

fn nodes(exprs: &[Expr], params: &[&str]) -> Option<Vec<Node>> {
    exprs.iter().map(|e| node(e, params)).collect()
}

/// A parameter: the item (the last one) or a captured value.
fn variable(expr: &Expr, params: &[&str]) -> Option<Node> {
    let Expr::Variable(name, ..) = expr else {
        return None;
    };
    let (_, name, namespace, _) = &**name;
    if !namespace.is_empty() {
        return None;
    }
    let at = params.iter().position(|p| *p == name.as_str())?;
    Some(if at + 1 == params.len() {
        Node::Item
    } else {
        Node::Captured(at)
    })
}

/// `name` read from `target`, which must be the item.
fn item_field(target: &Expr, name: &ImmutableString, params: &[&str]) -> Option<Node> {
    match variable(target, params)? {
        Node::Item => Some(Node::Field(name.clone(), known_field(name))),
        _ => None,
    }
}

/// An operator call: a comparison or `!`.
fn call_node(call: &FnCallExpr, params: &[&str]) -> Option<Node> {
    let token = call.op_token.as_ref()?;
    match call.args.as_slice() {
        [operand] if *token == Token::Bang => Some(Node::Not(Box::new(node(operand, params)?))),
        [lhs, rhs] => Some(Node::Compare(
            Comparison::of(token)?,
            Box::new(node(lhs, params)?),
            Box::new(node(rhs, params)?),
        )),
        _ => None,
    }
}

/// The item a condition is tested on, its record or map already at hand.
struct Subject<'a> {
    item: &'a Dynamic,
    record: Option<&'a Record>,
    map: Option<&'a Map>,
}

/// A value met while evaluating, borrowed where it can be.
enum Value<'a> {
    Dynamic(&'a Dynamic),
    Owned(Dynamic),
    /// A string field still in its page's text.
    Text(&'a str),
    /// An integer field a page holds in its slot.
    Int(rhai::INT),
    Bool(bool),
}

impl Value<'_> {
    fn dynamic(&self) -> Option<&Dynamic> {
        match self {
            Value::Dynamic(value) => Some(value),
            Value::Owned(value) => Some(value),
            Value::Text(_) | Value::Int(_) | Value::Bool(_) => None,
        }
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            other => other.dynamic()?.as_bool().ok(),
        }
    }

    fn as_int(&self) -> Option<rhai::INT> {
        match self {
            Value::Int(i) => Some(*i),
            other => other.dynamic()?.as_int().ok(),
        }
    }

    /// `f` of the value's text, when it is a string.
    fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R> {
        match self {
            Value::Text(text) => Some(f(text)),
            other => Some(f(other.dynamic()?.read_lock::<ImmutableString>()?.as_str())),
        }
    }
}

impl<'a> From<Field<'a>> for Value<'a> {
    fn from(field: Field<'a>) -> Self {
        match field {
            Field::Value(value) => Value::Dynamic(value),
            Field::Text(text) => Value::Text(text),
            Field::Int(i) => Value::Int(i),
            Field::Owned(value) => Value::Owned(value),
        }
    }
}

impl Node {
    fn eval<'a>(&'a self, subject: &Subject<'a>, captured: &'a [Dynamic]) -> Option<Value<'a>> {
        Some(match self {
            Node::Constant(value) => Value::Dynamic(value),
            Node::Item => Value::Dynamic(subject.item),
            Node::Captured(at) => Value::Dynamic(captured.get(*at)?),
            Node::Field(name, known) => field(subject, name, *known)?,
            Node::Compare(op, lhs, rhs) => {
                let (lhs, rhs) = (lhs.eval(subject, captured)?, rhs.eval(subject, captured)?);
                Value::Bool(compare(*op, &lhs, &rhs)?)
            }
            Node::Not(operand) => Value::Bool(!operand.eval(subject, captured)?.as_bool()?),
            Node::And(operands) => {
                for operand in operands {
                    if !operand.eval(subject, captured)?.as_bool()? {
                        return Some(Value::Bool(false));
                    }
                }
                Value::Bool(true)
            }
            Node::Or(operands) => {
                for operand in operands {
                    if operand.eval(subject, captured)?.as_bool()? {
                        return Some(Value::Bool(true));
                    }
                }
                Value::Bool(false)
            }
        })
    }
}

/// A field of a record (unit when it has none, as its getter and indexer answer) or of
/// a map that has it (a missing map field is Rhai's to answer).
fn field<'a>(subject: &Subject<'a>, name: &str, known: Option<usize>) -> Option<Value<'a>> {
    if let Some(record) = subject.record {
        return Some(
            record
                .field(known, name)
                .map_or(Value::Owned(Dynamic::UNIT), Value::from),
        );
    }
    subject.map?.get(name).map(Value::Dynamic)
}

/// A comparison of two values of the same type among integers, strings, booleans,
/// characters and unit, as Rhai's built-in operators compare them.
fn compare(op: Comparison, lhs: &Value, rhs: &Value) -> Option<bool> {
    let order = if let (Some(a), Some(b)) = (lhs.as_int(), rhs.as_int()) {
        a.cmp(&b)
    } else if let Some(order) = lhs.with_str(|a| rhs.with_str(|b| a.cmp(b))).flatten() {
        order
    } else if let (Some(a), Some(b)) = (lhs.as_bool(), rhs.as_bool()) {
        a.cmp(&b)
    } else {
        let (lhs, rhs) = (lhs.dynamic()?, rhs.dynamic()?);
        if let (Ok(a), Ok(b)) = (lhs.as_char(), rhs.as_char()) {
            a.cmp(&b)
        } else if lhs.is_unit() && rhs.is_unit() {
            // Rhai: `() == ()`, and no other comparison of units holds.
            return Some(matches!(op, Comparison::Equal));
        } else {
            return None;
        }
    };
    Some(op.holds(order))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::record::PageReader;
    use proptest::prelude::*;
    use rhai::{Engine, Scope};

    /// Records whose fields have one type each, as a server's do.
    const TASKS: &str = r#"[
        {"id": "1", "priority": 50, "scheduleId": "5", "ok": true, "c": "x", "n": null},
        {"id": "2", "priority": 70, "scheduleId": "6", "ok": false, "c": "y", "n": null},
        {"id": "3", "priority": 64, "scheduleId": "5", "ok": true, "c": "", "n": null},
        {"id": "4", "priority": 63, "scheduleId": "50", "ok": false, "c": "x", "n": null}
    ]"#;

    /// Items of every kind a filter can meet: fields of other types, missing fields,
    /// floats, a plain map, values that are not maps.
    const MIXED: &str = r#"[
        {"id": "1", "priority": 50, "scheduleId": "5", "ok": true, "c": "x", "f": 1.5, "n": null},
        {"id": "3", "priority": 64, "scheduleId": "5", "ok": true},
        {"id": "4", "priority": "high", "scheduleId": 5, "ok": 1, "c": "", "f": 0.0, "n": 3},
        7
    ]"#;

    fn engine() -> Engine {
        let mut engine = Engine::new();
        crate::script::record::register(&mut engine);
        super::super::closures::register(&mut engine);
        engine.register_fn("compiles", |ctx: NativeCallContext, f: FnPtr| {
            Predicate::of(&ctx, &f).is_some()
        });
        engine
    }

    fn scope(json: &str) -> Scope<'static> {
        let mut items = PageReader::read(&[], json).unwrap();
        if json == MIXED {
            let mut map = rhai::Map::new();
            map.insert("priority".into(), 70.into());
            map.insert("scheduleId".into(), "5".into());
            items.push(map.into());
            items.push("text".into());
        }
        let mut scope = Scope::new();
        scope.push("items", items);
        scope.push("k", 64 as rhai::INT);
        scope.push("s", "5");
        scope
    }

    /// `filter(|t| condition)` with the fast path, and the same closure called by Rhai
    /// for every item: the same items kept, or both fail.
    fn both_ways(
        engine: &Engine,
        items: &str,
        condition: &str,
    ) -> (Result<String, ()>, Result<String, ()>) {
        let fast = format!("items.filter(|t| {condition})");
        let rhai = format!(
            "let f = |t| {condition}; let out = []; \
             for t in items {{ let r = f.call(t); if type_of(r) == \"bool\" && r {{ out.push(t) }} }} out"
        );
        let run = |script: &str| {
            engine
                .eval_with_scope::<Dynamic>(&mut scope(items), script)
                .map(|v| format!("{v:?}"))
                .map_err(|_| ())
        };
        (run(&fast), run(&rhai))
    }

    /// Whether the script function `function` is read as a condition.
    fn compiles(engine: &Engine, function: &str) -> bool {
        let script = format!("compiles({function})");
        engine
            .eval_with_scope::<bool>(&mut scope(TASKS), &script)
            .unwrap()
    }

    #[test]
    fn conditions_over_fields_and_captured_values_are_compiled() {
        let engine = engine();
        for condition in [
            "t.priority > 64 && t.scheduleId != s",
            "t[\"priority\"] >= k || !t.ok",
            "t.id == \"2\"",
            "t.n == ()",
            "t.c < \"y\"",
            "!(t.priority <= 50)",
            "t == 7",
        ] {
            assert!(
                compiles(&engine, &format!("|t| {condition}")),
                "{condition}"
            );
            let (fast, rhai) = both_ways(&engine, TASKS, condition);
            assert!(fast.is_ok(), "{condition}");
            assert_eq!(fast, rhai, "{condition}");
            let (fast, rhai) = both_ways(&engine, MIXED, condition);
            assert_eq!(fast, rhai, "{condition} over mixed items");
        }
    }

    #[test]
    fn other_functions_are_left_to_rhai() {
        let engine = engine();
        for function in [
            "|t| t.priority + 1 > k",
            "|t| { let p = t.priority; p > 1 }",
            "|t| t.id.len() > 0",
            "|t, i| i > 1",
            "|| this.priority > 1",
            "|t| t.priority?.x == 1",
            "|t| t.f > 1.0",
            "Fn(\"abs\")",
        ] {
            assert!(!compiles(&engine, function), "{function}");
        }
    }

    /// A condition from the shapes compiled here (and a few that are not).
    fn condition() -> impl Strategy<Value = String> {
        let operand = prop_oneof![
            Just("t.priority".to_string()),
            Just("t[\"scheduleId\"]".to_string()),
            Just("t.ok".to_string()),
            Just("t.c".to_string()),
            Just("t.f".to_string()),
            Just("t.n".to_string()),
            Just("t.missing".to_string()),
            Just("t".to_string()),
            Just("k".to_string()),
            Just("s".to_string()),
            Just("64".to_string()),
            Just("\"5\"".to_string()),
            Just("true".to_string()),
            Just("()".to_string()),
            Just("'x'".to_string()),
            Just("1.5".to_string()),
        ];
        let op = prop_oneof![
            Just("=="),
            Just("!="),
            Just("<"),
            Just("<="),
            Just(">"),
            Just(">=")
        ];
        let comparison =
            (operand.clone(), op, operand).prop_map(|(a, op, b)| format!("{a} {op} {b}"));
        let leaf = prop_oneof![comparison, Just("t.ok".to_string()), Just("k".to_string())];
        leaf.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) && ({b})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) || ({b})")),
                inner.prop_map(|a| format!("!({a})")),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn the_fast_path_keeps_what_rhai_keeps(condition in condition()) {
            let engine = engine();
            for items in [TASKS, MIXED] {
                let (fast, rhai) = both_ways(&engine, items, &condition);
                prop_assert_eq!(fast, rhai, "{}", condition);
            }
        }
    }
}
