// Reads iCalendar files with ical.js (Mozilla's, inside Thunderbird) and node-ical, in one
// process for a whole batch. Input on stdin: a JSON list of file paths. Output on stdout: a JSON
// object {path: {"ical.js": reading, "node-ical": reading}}, where a reading is
// {"events": [{uid, start, end, summary}], "components": n} with instants as UTC ISO strings,
// or {"error": "..."}.
"use strict";
const fs = require("fs");
const icalModule = require("ical.js");
const ICAL = icalModule.default || icalModule;  // 2.x is an ES module: .default from CommonJS
const nodeIcal = require("node-ical");

function readIcalJs(text) {
  const root = new ICAL.Component(ICAL.parse(text));
  // As Thunderbird does: the file's VTIMEZONEs replace the client's own zone definitions.
  ICAL.TimezoneService.reset();
  for (const vtz of root.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
  }
  const events = root.getAllSubcomponents("vevent").map((vevent) => {
    const event = new ICAL.Event(vevent);
    for (const t of [event.startDate, event.endDate]) {
      const tzid = vevent.getFirstProperty(t === event.startDate ? "dtstart" : "dtend").getParameter("tzid");
      if (tzid && t.zone && t.zone.tzid !== tzid) {
        throw new Error(`TZID ${tzid} resolved to ${t.zone.tzid}`);
      }
    }
    return {uid: event.uid, start: event.startDate.toJSDate().toISOString(),
            end: event.endDate.toJSDate().toISOString(), summary: event.summary};
  });
  return {events, components: root.getAllSubcomponents().length,
          names: [root.getFirstPropertyValue("name"), root.getFirstPropertyValue("x-wr-calname")]};
}

function readNodeIcal(text) {
  const parsed = nodeIcal.sync.parseICS(text);
  const values = Object.values(parsed);
  const events = values.filter((v) => v.type === "VEVENT").map((v) => ({
    uid: v.uid, start: v.start.toISOString(), end: v.end.toISOString(),
    summary: typeof v.summary === "object" && v.summary !== null ? v.summary.val : v.summary,
  }));
  return {events, components: values.filter((v) => v && v.type).length};
}

function attempt(fn, text) {
  try {
    return fn(text);
  } catch (error) {
    return {error: String(error && error.stack || error)};
  }
}

const paths = JSON.parse(fs.readFileSync(0, "utf8"));
const out = {};
for (const path of paths) {
  const text = fs.readFileSync(path, "utf8");
  out[path] = {"ical.js": attempt(readIcalJs, text), "node-ical": attempt(readNodeIcal, text)};
}
process.stdout.write(JSON.stringify(out));
