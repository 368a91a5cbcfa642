// Decodes an --otlp file with OpenTelemetry's own protobuf definitions
// (@opentelemetry/otlp-transformer, installed in build/node by
// scripts/install-deps.sh) and checks it against the JSON report of the
// same run. Usage: node otlp_check.js NODE_DIR OTLP.json REPORT.json
// Prints one line per failed check and exits 1, or "ok N spans" and 0.
'use strict';
const path = require('path');
const fs = require('fs');
const [nodeDir, otlpFile, reportFile] = process.argv.slice(2);
const root = require(path.resolve(nodeDir, 'node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js'));
const Req = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const fail = (msg) => { console.log('otlp: ' + msg); process.exitCode = 1; };
const raw = JSON.parse(fs.readFileSync(otlpFile, 'utf8'));
const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));

// OTLP/JSON writes trace and span ids as hex, not protobuf JSON's base64
// (the OTLP specification's one deviation): turn them into bytes first.
const HEX = { traceId: 32, spanId: 16, parentSpanId: 16 };
for (const rs of raw.resourceSpans || [])
	for (const ss of rs.scopeSpans || [])
		for (const s of ss.spans || [])
			for (const [k, n] of Object.entries(HEX)) {
				if (s[k] === undefined) continue;
				if (!new RegExp('^[0-9a-f]{' + n + '}$').test(s[k]))
					fail(`span ${s.name}: ${k} '${s[k]}' is not ${n} hex digits`);
				s[k] = Buffer.from(s[k], 'hex');
			}
const m = Req.fromObject(raw);
const err = Req.verify(m);
if (err) fail('verify: ' + err);
// through the wire format and back: what a collector would decode
const msg = Req.decode(Req.encode(m).finish());
const obj = Req.toObject(msg, { longs: String, bytes: String, enums: Number, defaults: false });
// fromObject drops what it does not know: a misnamed field comes back
// missing, a wrong type changed. Compare with the file (empty lists and
// ids aside, which protobuf writes differently).
const norm = (v) => {
	if (Buffer.isBuffer(v)) return v.toString('base64');
	if (Array.isArray(v)) return v.map(norm);
	if (v && typeof v === 'object') {
		const o = {};
		for (const k of Object.keys(v).sort()) {
			if (Array.isArray(v[k]) && !v[k].length) continue;
			if (v[k] === null) continue;
			o[k] = norm(v[k]);
		}
		return o;
	}
	return v;
};
const a = JSON.stringify(norm(raw)), b = JSON.stringify(norm(obj));
if (a !== b) {
	let i = 0;
	while (a[i] === b[i]) i++;
	fail(`the file does not survive protobuf: at '${a.slice(Math.max(0, i - 60), i + 40)}' vs '${b.slice(Math.max(0, i - 60), i + 40)}'`);
}

const spans = obj.resourceSpans.flatMap(r => r.scopeSpans.flatMap(s => s.spans));
const attr = (s, k) => {
	const a = (s.attributes || []).find(x => x.key === k);
	if (!a) return undefined;
	const v = a.value;
	return v.intValue !== undefined ? Number(v.intValue) : v.stringValue !== undefined ? v.stringValue : v.arrayValue;
};
const procSpans = spans.filter(s => attr(s, 'process.pid') !== undefined);
if (procSpans.length !== report.processes.length)
	fail(`${procSpans.length} process spans, the report has ${report.processes.length} processes`);
const traceIds = new Set(spans.map(s => s.traceId));
if (traceIds.size !== 1) fail(`${traceIds.size} trace ids`);
const byId = new Map(procSpans.map(s => [attr(s, 'mptrace.process.id'), s]));
const spanIds = new Map(spans.map(s => [s.spanId, s]));
if (spanIds.size !== spans.length) fail('span ids are not unique');
for (const p of report.processes) {
	const s = byId.get(p.id);
	if (!s) { fail(`no span for process ${p.id} (${p.comm}[${p.pid}])`); continue; }
	if (attr(s, 'process.pid') !== p.pid) fail(`span of ${p.id}: process.pid ${attr(s, 'process.pid')} != ${p.pid}`);
	if (attr(s, 'process.executable.name') !== p.comm) fail(`span of ${p.id}: executable name`);
	if (attr(s, 'process.parent_pid') === undefined) fail(`span of ${p.id}: no process.parent_pid`);
	if (!attr(s, 'process.command_args')) fail(`span of ${p.id}: no process.command_args`);
	const parent = p.parent !== null && p.parent !== undefined ? byId.get(p.parent) : undefined;
	if (parent && s.parentSpanId !== parent.spanId)
		fail(`span of ${p.id}: parent span is not process ${p.parent}'s`);
	if (!parent && s.parentSpanId) fail(`span of ${p.id}: a parent span, the report has no parent`);
	if (BigInt(s.endTimeUnixNano) < BigInt(s.startTimeUnixNano)) fail(`span of ${p.id}: ends before it starts`);
	const failed = p.signal || p.exit_code || report.findings.some(f => f.id === p.id);
	if (failed && (!s.status || s.status.code !== 2)) fail(`span of ${p.id} (${p.comm}): no error status`);
	if (typeof p.exit_code === 'number' && !p.signal && attr(s, 'process.exit.code') !== p.exit_code)
		fail(`span of ${p.id}: process.exit.code ${attr(s, 'process.exit.code')} != ${p.exit_code}`);
}
for (const s of spans) {
	if (attr(s, 'process.pid') !== undefined) continue;
	if (!s.parentSpanId || !spanIds.has(s.parentSpanId)) fail(`wait span '${s.name}' has no parent span`);
}
const events = procSpans.flatMap(s => (s.events || []).map(e => e.name));
for (const f of report.findings.filter(f => f.id !== null))
	if (!events.includes('mptrace.finding.' + f.kind)) fail(`finding ${f.kind} of ${f.id} is no span event`);
if (!process.exitCode) console.log(`ok ${spans.length} spans, ${procSpans.length} processes, ${events.length} events`);
