//! JSON log lines, one object a line, in the shape of tracing-subscriber's JSON format
//! (`timestamp`, `level`, `fields`, `target`, `spans`), made without parsing anything again.
//! tracing-subscriber keeps each span's fields as a whole JSON object, so every `record` on a
//! span parses, merges and re-serialises it, and every line inside the span parses it once
//! more: on url-api's redirect path that was an eighth of the CPU. Here a span's fields are kept
//! as the inside of an object (`"k":v,"k2":v2`), which a `record` only appends to and a line
//! copies as it is.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use super::trace_ids::TraceIds;

/// Formats fields as the members of a JSON object, without the braces.
#[derive(Debug, Default)]
pub(crate) struct JsonMembers;

impl<'w> FormatFields<'w> for JsonMembers {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut members = Members::new(writer, true);
        fields.record(&mut members);
        members.result
    }

    fn add_fields(
        &self,
        current: &'w mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let first = current.fields.is_empty();
        let mut members = Members::new(current.as_writer(), first);
        fields.record(&mut members);
        members.result
    }
}

/// Writes one event as a JSON line, with the fields of the spans it is in (outermost first).
#[derive(Debug, Default)]
pub(crate) struct JsonLine;

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut out: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        out.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(&mut out)?;
        write!(out, "\",\"level\":\"{}\",\"fields\":{{", meta.level())?;
        let mut members = Members::new(out.by_ref(), true);
        event.record(&mut members);
        members.result?;
        out.write_str("},\"target\":")?;
        write_string(&mut out, meta.target())?;
        if let Some(scope) = ctx.event_scope() {
            out.write_str(",\"spans\":[")?;
            for (i, span) in scope.from_root().enumerate() {
                out.write_str(if i == 0 { "{" } else { ",{" })?;
                let extensions = span.extensions();
                if let Some(TraceIds(ids)) = extensions.get::<TraceIds>() {
                    out.write_str(ids)?;
                    out.write_char(',')?;
                }
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && !fields.fields.is_empty()
                {
                    out.write_str(&fields.fields)?;
                    out.write_char(',')?;
                }
                out.write_str("\"name\":")?;
                write_string(&mut out, span.name())?;
                out.write_char('}')?;
            }
            out.write_char(']')?;
        }
        out.write_str("}\n")
    }
}

/// A visitor writing `"name":value` pairs, comma-separated.
struct Members<'w> {
    out: Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl<'w> Members<'w> {
    fn new(out: Writer<'w>, first: bool) -> Self {
        Self {
            out,
            first,
            result: Ok(()),
        }
    }

    fn member(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'w>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        let separator = if std::mem::take(&mut self.first) {
            ""
        } else {
            ","
        };
        self.result = self
            .out
            .write_str(separator)
            .and_then(|()| write_string(&mut self.out, field.name()))
            .and_then(|()| self.out.write_char(':'))
            .and_then(|()| value(&mut self.out));
    }
}

impl Visit for Members<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.member(field, |out| write_string(out, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.member(field, |out| write!(out, "{value}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.member(field, |out| write!(out, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.member(field, |out| write!(out, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinity.
        if value.is_finite() {
            self.member(field, |out| write!(out, "{value}"));
        } else {
            self.member(field, |out| write!(out, "\"{value}\""));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.member(field, |out| {
            out.write_char('"')?;
            write!(Escaped(out), "{value}")?;
            out.write_char('"')
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.member(field, |out| {
            out.write_char('"')?;
            write!(Escaped(out), "{value:?}")?;
            out.write_char('"')
        });
    }
}

fn write_string(out: &mut impl fmt::Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    Escaped(out).write_str(s)?;
    out.write_char('"')
}

/// Escapes what it is given for the inside of a JSON string.
struct Escaped<'a, W: fmt::Write>(&'a mut W);

impl<W: fmt::Write> fmt::Write for Escaped<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut plain = 0;
        for (i, c) in s.char_indices() {
            let escape = match c {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                c if c < ' ' => "",
                _ => continue,
            };
            self.0.write_str(&s[plain..i])?;
            if escape.is_empty() {
                write!(self.0, "\\u{:04x}", u32::from(c))?;
            } else {
                self.0.write_str(escape)?;
            }
            plain = i + c.len_utf8();
        }
        self.0.write_str(&s[plain..])
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::super::trace_ids::TraceIdsLayer;
    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(f: impl FnOnce()) -> Vec<serde_json::Value> {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .fmt_fields(JsonMembers)
                .event_format(JsonLine)
                .with_writer(move || writer.clone()),
        );
        tracing::subscriber::with_default(subscriber, f);
        parsed(&lines)
    }

    /// As `logged`, with spans traced as `init` traces them.
    fn logged_traced(f: impl FnOnce()) -> Vec<serde_json::Value> {
        use opentelemetry::trace::TracerProvider as _;

        let lines = Lines::default();
        let writer = lines.clone();
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
            .with(TraceIdsLayer::default())
            .with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(JsonMembers)
                    .event_format(JsonLine)
                    .with_writer(move || writer.clone()),
            );
        tracing::subscriber::with_default(subscriber, f);
        parsed(&lines)
    }

    fn parsed(lines: &Lines) -> Vec<serde_json::Value> {
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    #[test]
    fn an_event_in_recorded_spans_is_one_json_object_with_every_field() {
        let lines = logged(|| {
            let outer = tracing::info_span!(
                "http request",
                route = "/:code",
                status = tracing::field::Empty
            );
            let _outer = outer.enter();
            outer.record("status", 302);
            let inner = tracing::info_span!("inner");
            let _inner = inner.enter();
            tracing::info!(
                ratio = 0.5,
                ok = true,
                n = -3,
                quote = "say \"hi\"\n\u{1}",
                "a \\ message"
            );
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["fields"]["message"], "a \\ message");
        assert_eq!(line["fields"]["ratio"], 0.5);
        assert_eq!(line["fields"]["ok"], true);
        assert_eq!(line["fields"]["n"], -3);
        assert_eq!(line["fields"]["quote"], "say \"hi\"\n\u{1}");
        assert_eq!(line["spans"][0]["name"], "http request");
        assert_eq!(line["spans"][0]["route"], "/:code");
        assert_eq!(line["spans"][0]["status"], 302);
        assert_eq!(line["spans"][1], serde_json::json!({"name": "inner"}));
        assert!(line["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn values_json_cannot_hold_and_errors_are_strings() {
        let error = std::io::Error::other("disk \"full\"");
        let lines = logged(|| {
            tracing::warn!(
                ratio = f64::NAN,
                error = &error as &dyn std::error::Error,
                "outside any span"
            );
        });
        assert_eq!(lines[0]["fields"]["ratio"], "NaN");
        assert_eq!(lines[0]["fields"]["error"], "disk \"full\"");
        assert!(lines[0].get("spans").is_none());
    }

    #[test]
    fn a_line_names_the_ids_of_its_outermost_span_which_continues_the_callers_trace() {
        use opentelemetry::trace::{
            SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
        };
        use tracing_opentelemetry::OpenTelemetrySpanExt;

        let caller = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        let lines = logged_traced(|| {
            let request = tracing::info_span!("http request");
            let _ =
                request.set_parent(opentelemetry::Context::new().with_remote_span_context(caller));
            let _request = request.enter();
            tracing::info!("first");
            let inner = tracing::info_span!("inner");
            let _inner = inner.enter();
            tracing::info!("second");
        });
        assert_eq!(lines.len(), 2);
        let request = &lines[0]["spans"][0];
        assert_eq!(request["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        let span_id = request["span_id"].as_str().unwrap();
        assert_eq!(span_id.len(), 16);
        assert_ne!(
            span_id, "00f067aa0ba902b7",
            "the request's own span, not the caller's"
        );
        assert_eq!(&lines[1]["spans"][0], request);
        assert_eq!(lines[1]["spans"][1], serde_json::json!({"name": "inner"}));
    }

    #[test]
    fn a_line_outside_any_span_names_no_ids() {
        let lines = logged_traced(|| tracing::info!("alone"));
        assert!(lines[0].get("spans").is_none());
        assert!(!lines[0].to_string().contains("trace_id"));
    }
}
