//! `require "memlua.svd"`: CMSIS-SVD files (the XML vendors ship for their
//! chips) parsed with svd-parser into plain Lua tables, which the `regs`
//! module turns into register maps. Arrays (`dim`) are expanded and
//! `derivedFrom` resolved here, so Lua sees every peripheral and register
//! spelled out.
//!
//! `svd.parse(xml [, name])` and `svd.load(path)` return
//! `{name=, description=, peripherals={{name=, base=, description=,
//! registers={{name=, offset=, width=, access=, reset=, description=,
//! fields={{name=, lsb=, width=, access=, description=,
//! enum={{name=, value=, description=}}}}}}}}}`, or `nil, message` where the
//! message names the file, the element and its line:column (svd-parser's
//! own context chain), so the Lua side raises it at the caller's line.

use mlua::{Lua, Table, Value};
use svd_parser::svd::{
    Access, DeriveFrom, Device, FieldInfo, ModifiedWriteValues, RegisterCluster, RegisterInfo,
    RegisterProperties,
};

/// The access word `regs` uses: ro, rw, wo, or w1c for write-one-to-clear.
fn access_name(a: Option<Access>, mwv: Option<ModifiedWriteValues>) -> Option<&'static str> {
    if mwv == Some(ModifiedWriteValues::OneToClear) {
        return Some("w1c");
    }
    a.map(|a| match a {
        Access::ReadOnly => "ro",
        Access::WriteOnly | Access::WriteOnce => "wo",
        Access::ReadWrite | Access::ReadWriteOnce => "rw",
    })
}

fn field_table(lua: &Lua, f: &FieldInfo) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("name", f.name.as_str())?;
    t.set("lsb", f.bit_range.offset)?;
    t.set("width", f.bit_range.width)?;
    if let Some(a) = access_name(f.access, f.modified_write_values) {
        t.set("access", a)?;
    }
    if let Some(d) = &f.description {
        t.set("description", d.trim())?;
    }
    let en = lua.create_table()?;
    for ev in &f.enumerated_values {
        for v in &ev.values {
            // A default entry (isDefault) has no value of its own.
            let Some(value) = v.value else { continue };
            let e = lua.create_table()?;
            e.set("name", v.name.as_str())?;
            e.set("value", value as i64)?;
            if let Some(d) = &v.description {
                e.set("description", d.trim())?;
            }
            en.push(e)?;
        }
    }
    if en.raw_len() > 0 {
        t.set("enum", en)?;
    }
    Ok(t)
}

fn register_table(
    lua: &Lua,
    r: &RegisterInfo,
    offset: u64,
    prefix: &str,
    defaults: &RegisterProperties,
) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("name", format!("{prefix}{}", r.name))?;
    t.set("offset", offset as i64)?;
    let p = &r.properties;
    t.set("width", p.size.or(defaults.size).unwrap_or(32))?;
    let access = p.access.or(defaults.access);
    t.set(
        "access",
        access_name(access, r.modified_write_values).unwrap_or("rw"),
    )?;
    if let Some(reset) = p.reset_value.or(defaults.reset_value) {
        t.set("reset", reset as i64)?;
    }
    if let Some(d) = &r.description {
        t.set("description", d.trim())?;
    }
    let fields = lua.create_table()?;
    for f in r.fields.iter().flatten() {
        fields.push(field_table(lua, f)?)?;
    }
    t.set("fields", fields)?;
    Ok(t)
}

/// Registers of a peripheral or cluster, clusters flattened with their
/// offset added and their name as a prefix (`CH0_CTRL`).
fn push_registers(
    lua: &Lua,
    out: &Table,
    children: &[RegisterCluster],
    base: u64,
    prefix: &str,
    defaults: &RegisterProperties,
) -> mlua::Result<()> {
    for rc in children {
        match rc {
            RegisterCluster::Register(r) => {
                let off = base + r.address_offset as u64;
                out.push(register_table(lua, r, off, prefix, defaults)?)?;
            }
            RegisterCluster::Cluster(c) => {
                let inner = c.default_register_properties.derive_from(defaults);
                let p = format!("{prefix}{}_", c.name);
                push_registers(
                    lua,
                    out,
                    &c.children,
                    base + c.address_offset as u64,
                    &p,
                    &inner,
                )?;
            }
        }
    }
    Ok(())
}

fn device_table(lua: &Lua, d: &Device) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("name", d.name.as_str())?;
    t.set("description", d.description.trim())?;
    let ps = lua.create_table()?;
    for p in &d.peripherals {
        let pt = lua.create_table()?;
        pt.set("name", p.name.as_str())?;
        pt.set("base", p.base_address as i64)?;
        if let Some(desc) = &p.description {
            pt.set("description", desc.trim())?;
        }
        let defaults = p
            .default_register_properties
            .derive_from(&d.default_register_properties);
        let regs = lua.create_table()?;
        push_registers(
            lua,
            &regs,
            p.registers.as_deref().unwrap_or(&[]),
            0,
            "",
            &defaults,
        )?;
        pt.set("registers", regs)?;
        ps.push(pt)?;
    }
    t.set("peripherals", ps)?;
    Ok(t)
}

/// Parses `xml`; an error names `name`, the element and where it is.
fn parse(lua: &Lua, xml: &str, name: &str) -> mlua::Result<(Value, Option<String>)> {
    let config = svd_parser::Config::default().expand(true);
    match svd_parser::parse_with_config(xml, &config) {
        Ok(dev) => Ok((Value::Table(device_table(lua, &dev)?), None)),
        Err(e) => Ok((Value::Nil, Some(format!("{name}: {e:#}")))),
    }
}

fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "parse",
        lua.create_function(|lua, (xml, name): (mlua::LuaString, Option<String>)| {
            let xml = String::from_utf8_lossy(&xml.as_bytes()).into_owned();
            parse(lua, &xml, name.as_deref().unwrap_or("svd"))
        })?,
    )?;
    t.set(
        "load",
        lua.create_function(|lua, path: String| match std::fs::read(&path) {
            Ok(bytes) => parse(lua, &String::from_utf8_lossy(&bytes), &path),
            Err(e) => Ok((Value::Nil, Some(format!("cannot open {path}: {e}")))),
        })?,
    )?;
    Ok(t)
}

/// Registers `memlua.svd` in `package.preload`.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    crate::stdlib::preload(lua, "memlua.svd", module)
}
