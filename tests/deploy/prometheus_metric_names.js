'use strict';
// Fails when an alerting rule (deploy/prometheus/rules.yml) or a series of
// its unit tests (rules_test.yml) names a metric that no roomq binary
// registers: Prometheus evaluates a rule over a metric that does not exist
// to nothing, forever, so a metric renamed in C++ would silence its alert
// without a word. Also checks, loosely, the label matchers: a `reason`,
// `limit`, `outcome`, ... value must appear as a string literal in the C++
// sources (where the label values are set), and a `job` value must be a
// job_name of prometheus.yml.
//
//   node tests/deploy/prometheus_metric_names.js   (from anywhere; exit 1 on a finding)
//
// Registered names are read from the sources, not from a running binary, so
// metrics a binary serves only in some setups (the broker's pair_* and
// curve_* ones) are known too: every /metrics page is written with
// base::PrometheusText (proto/base/prometheus_text.h), whose constructor
// takes the prefix and whose Counter/Gauge/Header/Sample calls take the
// name as their first, literal argument.

const {execFileSync} = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..');
const PROMETHEUS_DIR = path.join(REPO, 'deploy', 'prometheus');
const RULE_FILES = ['rules.yml', 'rules_test.yml'];
// Series Prometheus makes itself for every target; no binary registers them.
const SCRAPE_SERIES = new Set(['up']);
const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on',
                                 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

function sourceFiles() {
  const out = execFileSync('git', ['ls-files', '-z', '--', 'broker', 'gateway', 'proto', 'clients'],
                           {cwd: REPO, encoding: 'utf8'});
  return out.split('\0').filter((f) => /\.(cc|h)$/.test(f)).map((f) => path.join(REPO, f));
}

// Every registered metric name, and every string literal of the sources
// (where label names and values are spelled).
function registered() {
  const metrics = new Set();
  const literals = new Set();
  for (const file of sourceFiles()) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/"((?:[^"\\\n]|\\.)*)"/g)) literals.add(m[1]);
    const prefixes = [...text.matchAll(/PrometheusText\s+\w+\s*\(\s*"([a-z_]+)"\s*\)/g)].map((m) => m[1]);
    if (prefixes.length === 0) continue;
    if (prefixes.length > 1) throw new Error(`${file}: more than one PrometheusText prefix; teach this check which applies where`);
    const calls = /(?:\.\s*(?:Counter|Gauge|Header|Sample)\s*\(|\bByLabel\s*\(\s*\w+\s*,)\s*"([a-z_][a-z0-9_]*)"/g;
    for (const m of text.matchAll(calls)) metrics.add(prefixes[0] + m[1]);
  }
  return {metrics, literals};
}

// {text, line} of every PromQL expression (`expr:`, inline or a block
// scalar) and every input series (`series:`) of a rules or rules test file.
function expressions(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const found = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(?:-\s+)?(expr|series):\s*(.*)$/.exec(lines[i]);
    if (!m) continue;
    const [, indent, key, rest] = m;
    const line = i + 1;
    let text = rest.trim();
    if (/^[>|][-+]?$/.test(text)) {
      const block = [];
      while (i + 1 < lines.length && (lines[i + 1].trim() === '' || lines[i + 1].search(/\S/) > indent.length)) {
        block.push(lines[++i].trim());
      }
      text = block.join(' ');
    } else if (/^'.*'$|^".*"$/.test(text)) {
      text = text.slice(1, -1);
    }
    found.push({key, text, line});
  }
  return found;
}

// The metric names and label matchers of one PromQL expression (or series
// notation, `name{label="value"}`).
function parse(expr) {
  const matchers = [];
  for (const block of expr.matchAll(/\{([^}]*)\}/g)) {
    for (const m of block[1].matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
      matchers.push({label: m[1], op: m[2], value: m[3]});
    }
  }
  const grouping = [];
  for (const m of expr.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    grouping.push(...m[1].split(',').map((l) => l.trim()).filter(Boolean));
  }
  const bare = expr
      .replace(/"(?:[^"\\]|\\.)*"/g, '""')
      .replace(/\{[^}]*\}/g, ' ')
      .replace(/\[[^\]]*\]/g, ' ')
      .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const metrics = [];
  for (const m of bare.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()/g)) {
    if (!PROMQL_KEYWORDS.has(m[1].toLowerCase())) metrics.push(m[1]);
  }
  return {metrics, matchers, grouping};
}

function jobNames() {
  const text = fs.readFileSync(path.join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8');
  return new Set([...text.matchAll(/job_name:\s*['"]?([\w.-]+)/g)].map((m) => m[1]));
}

function check() {
  const {metrics, literals} = registered();
  if (metrics.size === 0) {
    return {problems: ['no registered metric found in the sources: is this check still reading them right?']};
  }
  const jobs = jobNames();
  const problems = new Set();  // a line may name one metric twice
  let seen = 0;
  for (const name of RULE_FILES) {
    const file = path.join(PROMETHEUS_DIR, name);
    // Every roomq_ name on any line, annotations included (they name
    // metrics for the operator to look at)...
    fs.readFileSync(file, 'utf8').split('\n').forEach((content, i) => {
      for (const m of content.matchAll(/(?<![\w.:])roomq_\w+/g)) {
        if (!metrics.has(m[0])) problems.add(`deploy/prometheus/${name}:${i + 1}: ${m[0]} is not a metric any roomq binary registers`);
      }
    });
    // ... and every other name an expression or series uses, which only
    // parsing finds (a rule over process_open_fds, say).
    for (const {text, line} of expressions(file)) {
      const where = `deploy/prometheus/${name}:${line}`;
      const parsed = parse(text);
      for (const metric of parsed.metrics) {
        seen++;
        if (!metric.startsWith('roomq_') && !SCRAPE_SERIES.has(metric)) {
          problems.add(`${where}: ${metric} is not a metric any roomq binary registers`);
        }
      }
      for (const label of parsed.grouping) {
        if (label !== 'job' && label !== 'instance' && !literals.has(label)) {
          problems.add(`${where}: label ${label} is spelled nowhere in the sources`);
        }
      }
      for (const {label, op, value} of parsed.matchers) {
        if (label === 'instance') continue;  // a target's address, not a binary's label
        // Alternations only: a regex that is more than a list of words
        // cannot be checked value by value.
        if (!/^[\w -]+(\|[\w -]+)*$/.test(value)) {
          problems.add(`${where}: ${label}${op}"${value}": keep label matchers to words or word|word`);
          continue;
        }
        for (const word of value.split('|')) {
          if (label === 'job') {
            if (!jobs.has(word)) problems.add(`${where}: job "${word}" is not a job_name of prometheus.yml`);
          } else if (!literals.has(label)) {
            problems.add(`${where}: label ${label} is spelled nowhere in the sources`);
          } else if (!literals.has(word)) {
            problems.add(`${where}: ${label} value "${word}" is spelled nowhere in the sources`);
          }
        }
      }
    }
  }
  if (seen === 0) problems.add('no metric found in the rule files: is this check still reading them right?');
  return {problems: [...problems], summary: `${seen} metric uses, ${metrics.size} metrics registered`};
}

const {problems, summary} = check();
if (problems.length > 0) {
  for (const p of problems) console.log(p);
  console.log('prometheus_metric_names: the rules must use the metric names and label values the ' +
              'binaries register (broker/metrics.cc, gateway/socketio/metrics.cc)');
  process.exit(1);
}
console.log(`prometheus_metric_names: every metric and label value in the rules is registered (${summary})`);
