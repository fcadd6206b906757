'use strict';
// The gateway's namespace policy (gateway/socketio/config.h) as plain JS
// objects, written as YAML for roomq-gateway --config and read back by the
// reference server.
//
// Only the subset the schema needs is supported: a top-level `namespaces:`
// list of flat maps whose values are strings (plain, 'single' or "double"
// quoted) or booleans, or a one-line flow map of such values
// (`recovery: {max_disconnection: '2s'}`, `auth: {type: jwt, secret_env: NAME}`),
// with `#` comments. Anything else is an error, so a
// config the reference server accepts is one roomq must accept too.

const KEYS = new Set(['name', 'pattern', 'join', 'publish', 'relay', 'echo', 'forward', 'middleware', 'recovery',
                      'auth']);

// {namespaces: [{name, join, publish, relay, echo, forward}, ...]} -> YAML text.
function toYaml(config) {
  const lines = ['namespaces:'];
  for (const ns of config.namespaces) {
    let first = true;
    for (const [key, value] of Object.entries(ns)) {
      if (!KEYS.has(key)) throw new Error(`config: unknown key ${key}`);
      const text = typeof value === 'boolean' ? String(value) :
          typeof value === 'object' ? flowMap(value) : quote(String(value));
      lines.push(`${first ? '  - ' : '    '}${key}: ${text}`);
      first = false;
    }
  }
  return lines.join('\n') + '\n';
}

function flowMap(object) {
  const items = Object.entries(object).map(([k, v]) => `${k}: ${typeof v === 'boolean' ? v : quote(String(v))}`);
  return `{${items.join(', ')}}`;
}

function quote(s) {
  return `'${s.replace(/'/g, "''")}'`;
}

function parseScalar(raw, where) {
  const s = raw.trim();
  if (s.startsWith('{')) {
    const m = /^\{([^{}]*)\}\s*(#.*)?$/.exec(s);
    if (!m) throw new Error(`${where}: unsupported flow map: ${s}`);
    const out = {};
    for (const item of m[1].split(',').filter((x) => x.trim() !== '')) {
      const kv = /^\s*([a-z_]+):\s*(.*)$/.exec(item);
      if (!kv) throw new Error(`${where}: bad flow map item: ${item}`);
      out[kv[1]] = parseScalar(kv[2], where);
    }
    return out;
  }
  let value;
  let rest;
  if (s.startsWith("'")) {
    let i = 1;
    let out = '';
    for (;; i++) {
      if (i >= s.length) throw new Error(`${where}: unterminated quote`);
      if (s[i] === "'") {
        if (s[i + 1] === "'") {
          out += "'";
          i++;
          continue;
        }
        break;
      }
      out += s[i];
    }
    value = out;
    rest = s.slice(i + 1);
  } else if (s.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"/.exec(s);
    if (!m) throw new Error(`${where}: unterminated quote`);
    value = JSON.parse(m[0]);
    rest = s.slice(m[0].length);
  } else {
    const bare = s.replace(/(^|\s+)#.*$/, '');
    if (bare === 'true') return true;
    if (bare === 'false') return false;
    return bare;
  }
  if (!/^\s*(#.*)?$/.test(rest)) throw new Error(`${where}: text after a quoted value`);
  return value;
}

// YAML text (the subset above) -> {namespaces: [...]}.
function parseYaml(text) {
  const namespaces = [];
  let current = null;
  let sawRoot = false;
  text.split('\n').forEach((line, i) => {
    const where = `config line ${i + 1}`;
    if (/^\s*(#.*)?$/.test(line)) return;
    if (/^namespaces:\s*(#.*)?$/.test(line)) {
      sawRoot = true;
      return;
    }
    const m = /^(\s*)(- )?\s*([a-z_]+):\s*(.*)$/.exec(line);
    if (!sawRoot || !m) throw new Error(`${where}: unsupported: ${line}`);
    const [, , dash, key, rest] = m;
    if (!KEYS.has(key)) throw new Error(`${where}: unknown key ${key}`);
    if (dash) {
      current = {};
      namespaces.push(current);
    }
    if (!current) throw new Error(`${where}: key outside a list item`);
    current[key] = parseScalar(rest, where);
  });
  if (!sawRoot) throw new Error('config: no namespaces list');
  return {namespaces};
}

module.exports = {toYaml, parseYaml};
