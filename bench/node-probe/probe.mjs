// Baseline OCPP probe in Node.js + ws, to the original design: connect to WS_URL
// with the OCPP subprotocol, BootNotification, then Heartbeat, print one line, exit
// 0 OK / 2 CRITICAL / 3 UNKNOWN. Only for bench/bench.py; not shipped.
import { randomUUID } from "node:crypto";
import WebSocket from "ws";

const url = process.env.WS_URL;
const version = process.env.OCPP_VERSION || "1.6";
const timeoutMs = Number(process.env.PROBE_TIMEOUT || "10") * 1000;
const responseMs = Number(process.env.HEARTBEAT_TIMEOUT || "5000");
const subprotocol = { "1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1" }[version];

function done(code, line) {
  process.stdout.write(line + "\n");
  process.exit(code);
}

if (!url || !subprotocol) done(3, "OCPP UNKNOWN - WS_URL and a known OCPP_VERSION are required");
setTimeout(() => done(2, "OCPP CRITICAL - timed out"), timeoutMs).unref();

const boot = version === "1.6"
  ? { chargePointVendor: process.env.CHARGE_POINT_VENDOR || "ocpp-probe", chargePointModel: process.env.CHARGE_POINT_MODEL || "kuma-probe" }
  : { reason: "PowerUp", chargingStation: { vendorName: process.env.CHARGE_POINT_VENDOR || "ocpp-probe", model: process.env.CHARGE_POINT_MODEL || "kuma-probe" } };

const ws = new WebSocket(url, [subprotocol]);
const pending = new Map();

function call(action, payload) {
  const id = randomUUID();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${action} timed out`)), responseMs);
    pending.set(id, (msg) => { clearTimeout(timer); resolve(msg); });
    ws.send(JSON.stringify([2, id, action, payload]));
  });
}

ws.on("message", (data) => {
  let msg;
  try { msg = JSON.parse(data.toString()); } catch { return; }
  if (Array.isArray(msg) && (msg[0] === 3 || msg[0] === 4) && pending.has(msg[1])) {
    const resolve = pending.get(msg[1]);
    pending.delete(msg[1]);
    resolve(msg);
  }
});
ws.on("error", (err) => done(2, `OCPP CRITICAL - ${err.message}`));
ws.on("unexpected-response", (_req, res) => done(2, `OCPP CRITICAL - HTTP ${res.statusCode}`));
ws.on("open", async () => {
  try {
    if (ws.protocol !== subprotocol) done(2, `OCPP CRITICAL - subprotocol ${ws.protocol || "none"}`);
    const b = await call("BootNotification", boot);
    if (b[0] !== 3 || b[2].status !== "Accepted") done(2, `OCPP CRITICAL - BootNotification ${b[2]?.status || b[2]}`);
    const t0 = performance.now();
    const h = await call("Heartbeat", {});
    const rtt = performance.now() - t0;
    if (h[0] !== 3) done(2, "OCPP CRITICAL - Heartbeat failed");
    ws.close(1000);
    done(0, `OCPP OK - ${subprotocol} BootNotification Accepted, Heartbeat RTT ${rtt.toFixed(2)} ms`);
  } catch (err) {
    done(2, `OCPP CRITICAL - ${err.message}`);
  }
});
