//! `qemu.*`, what only a QEMU machine has (docs/API.md, The session):
//! its IRQ lines, its monitors (QMP and the human one), its clock and x86
//! port I/O. Every call exists on every backend and fails with EOPNOTSUPP
//! off the qemu backend, as `sim.*` does off the simulator.

use std::rc::Rc;
use std::time::Duration;

use memlua_runtime::qemu::{Map, Value as Json};
use memlua_runtime::{ops, Errno, Error as RtError, Width};
use mlua::{Lua, Table, Value};

use crate::calls::api_function;
use crate::errors::{arg_error, type_name, Fail, Res};
use crate::numbers::{got, int_arg, len_arg, lua_int, value_arg};
use crate::session::Session;

/// Tables nested deeper than this are refused (a table that holds itself
/// would otherwise never end).
const MAX_DEPTH: usize = 64;

/// A text argument: a Lua string that is UTF-8 (QEMU's monitors speak
/// JSON, which is text).
fn text_arg(v: &Value, pos: usize, fname: &str) -> Res<String> {
    match v {
        Value::String(s) => s.to_str().map(|s| s.to_string()).map_err(|_| {
            Fail::Rt(RtError::new(
                Errno::EINVAL,
                fname,
                format!("argument #{pos} is not UTF-8 text, which QEMU's monitor needs"),
            ))
        }),
        other => Err(arg_error(
            pos,
            fname,
            format!("string expected, got {}", got(other)),
        )),
    }
}

/// A Lua value as JSON: a table whose keys are 1..n is an array, one whose
/// keys are all strings (or an empty one) an object.
fn to_json(v: &Value, depth: usize, fname: &str, at: &str) -> Res<Json> {
    let bad = |what: String| arg_error(2, fname, format!("{what} at {at} cannot be JSON"));
    Ok(match v {
        Value::Nil => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => Json::from(*i),
        Value::Number(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => Json::Number(n),
            None => return Err(bad(format!("the number {}", got(v)))),
        },
        Value::String(s) => match s.to_str() {
            Ok(s) => Json::from(s.to_string()),
            Err(_) => return Err(bad("a string that is not UTF-8".into())),
        },
        Value::Table(t) => {
            if depth >= MAX_DEPTH {
                return Err(bad(format!("a table nested more than {MAX_DEPTH} deep")));
            }
            let mut obj = Map::new();
            let mut seq: Vec<(i64, Value)> = Vec::new();
            for pair in t.clone().pairs::<Value, Value>() {
                let (k, v) = pair?;
                match &k {
                    Value::String(ks) => {
                        let key = ks
                            .to_str()
                            .map_err(|_| bad("a key that is not UTF-8".into()))?
                            .to_string();
                        let inner = to_json(&v, depth + 1, fname, &format!("{at}.{key}"))?;
                        obj.insert(key, inner);
                    }
                    Value::Integer(i) => seq.push((*i, v)),
                    other => return Err(bad(format!("a {} key", type_name(other)))),
                }
            }
            if seq.is_empty() {
                return Ok(Json::Object(obj));
            }
            if !obj.is_empty() {
                return Err(bad("a table with both string and integer keys".into()));
            }
            seq.sort_by_key(|(i, _)| *i);
            if seq.iter().enumerate().any(|(n, (i, _))| *i != n as i64 + 1) {
                return Err(bad("a table whose integer keys are not 1..n".into()));
            }
            let mut arr = Vec::with_capacity(seq.len());
            for (i, v) in &seq {
                arr.push(to_json(v, depth + 1, fname, &format!("{at}[{i}]"))?);
            }
            Json::Array(arr)
        }
        other => return Err(bad(format!("a {}", type_name(other)))),
    })
}

/// JSON as a Lua value: objects and arrays become tables, null nil.
fn from_json(lua: &Lua, v: &Json) -> mlua::Result<Value> {
    Ok(match v {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Integer(i),
            (None, Some(u)) => lua_int(u),
            _ => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(lua.create_string(s)?),
        Json::Array(a) => {
            let t = lua.create_table_with_capacity(a.len(), 0)?;
            for (i, x) in a.iter().enumerate() {
                t.raw_set(i + 1, from_json(lua, x)?)?;
            }
            Value::Table(t)
        }
        Json::Object(o) => {
            let t = lua.create_table_with_capacity(0, o.len())?;
            for (k, x) in o {
                t.raw_set(k.as_str(), from_json(lua, x)?)?;
            }
            Value::Table(t)
        }
    })
}

/// The `qemu` table.
pub fn qemu_table(lua: &Lua, session: &Rc<Session>) -> mlua::Result<Table> {
    let t = lua.create_table()?;

    let s = session.clone();
    t.set(
        "irq_intercept",
        api_function(lua, move |_, (path, dir): (Value, Value)| {
            const F: &str = ops::QEMU_IRQ_INTERCEPT;
            let path = text_arg(&path, 1, F)?;
            let out = match &dir {
                Value::Nil => false,
                Value::String(d) if d.as_bytes() == b"in" => false,
                Value::String(d) if d.as_bytes() == b"out" => true,
                other => {
                    return Err(arg_error(
                        2,
                        F,
                        format!("\"in\" or \"out\" expected, got {}", got(other)),
                    ))
                }
            };
            s.with_qemu(F, |q| q.irq_intercept(&path, out))
        })?,
    )?;

    let s = session.clone();
    t.set(
        "irqs",
        api_function(lua, move |lua, ()| {
            let levels = s.with_qemu(ops::QEMU_IRQS, |q| q.irqs())?;
            let t = lua.create_table()?;
            for (n, raised) in levels {
                t.raw_set(n, raised)?;
            }
            Ok(t)
        })?,
    )?;

    let s = session.clone();
    t.set(
        "qmp",
        api_function(lua, move |lua, (cmd, args): (Value, Value)| {
            const F: &str = ops::QEMU_QMP;
            let cmd = text_arg(&cmd, 1, F)?;
            let args = match &args {
                Value::Nil => None,
                Value::Table(_) => match to_json(&args, 0, F, "args")? {
                    Json::Object(o) => Some(o),
                    _ => {
                        return Err(arg_error(
                            2,
                            F,
                            "the arguments must be a table with string keys (a JSON object)",
                        ))
                    }
                },
                other => {
                    return Err(arg_error(
                        2,
                        F,
                        format!("table expected, got {}", got(other)),
                    ))
                }
            };
            let r = s.with_qemu(F, |q| q.qmp(&cmd, args.as_ref()))?;
            Ok(from_json(lua, &r)?)
        })?,
    )?;

    let s = session.clone();
    t.set(
        "hmp",
        api_function(lua, move |_, line: Value| {
            const F: &str = ops::QEMU_HMP;
            let line = text_arg(&line, 1, F)?;
            s.with_qemu(F, |q| q.hmp(&line))
        })?,
    )?;

    let s = session.clone();
    t.set(
        "run",
        api_function(lua, move |_, ns: Value| {
            const F: &str = ops::QEMU_RUN;
            let ns = len_arg(&ns, 1, F)?;
            s.with_qemu(F, |q| q.run(ns))
        })?,
    )?;

    let s = session.clone();
    t.set(
        "timeout",
        api_function(lua, move |_, secs: Value| {
            const F: &str = ops::QEMU_TIMEOUT;
            let new = match &secs {
                Value::Nil => None,
                Value::Integer(_) | Value::Number(_) => {
                    let f = match secs {
                        Value::Integer(i) => i as f64,
                        Value::Number(f) => f,
                        _ => unreachable!(),
                    };
                    if !(0.001..=86400.0).contains(&f) {
                        return Err(arg_error(
                            1,
                            F,
                            format!("seconds from 0.001 to 86400 expected, got {}", got(&secs)),
                        ));
                    }
                    Some(Duration::from_secs_f64(f))
                }
                other => {
                    return Err(arg_error(
                        1,
                        F,
                        format!("seconds expected, got {}", got(other)),
                    ))
                }
            };
            s.with_qemu(F, |q| {
                let old = q.timeout().as_secs_f64();
                if let Some(t) = new {
                    q.set_timeout(t)?;
                }
                Ok(old)
            })
        })?,
    )?;

    let s = session.clone();
    t.set(
        "pid",
        api_function(lua, move |_, ()| {
            s.with_qemu(ops::QEMU_PID, |q| Ok(q.pid()))
        })?,
    )?;

    for w in [Width::W8, Width::W16, Width::W32] {
        let s = session.clone();
        let f = ops::qemu_io(w, false);
        t.set(
            &f["qemu.".len()..],
            api_function(lua, move |_, port: Value| {
                let port = int_arg(&port, 1, f, "port")?;
                s.with_qemu(f, |q| q.io_read(port, w)).map(lua_int)
            })?,
        )?;
        let s = session.clone();
        let f = ops::qemu_io(w, true);
        t.set(
            &f["qemu.".len()..],
            api_function(lua, move |_, (port, v): (Value, Value)| {
                let port = int_arg(&port, 1, f, "port")?;
                let v = value_arg(&v, 2, f)?;
                s.with_qemu(f, |q| q.io_write(port, w, v))
            })?,
        )?;
    }

    Ok(t)
}
