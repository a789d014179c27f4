//! The ids a log line names: those of the outermost span it is in (the request, the call or the
//! batch an inbound adapter opened), read from its OpenTelemetry context the first time a line
//! is written inside it. The adapters record nothing for it, and the ids are not copied into
//! every exported span as attributes of their own.

use std::sync::OnceLock;

use opentelemetry::trace::TraceContextExt;
use tracing::dispatcher::WeakDispatch;
use tracing::span::Id;
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// `"trace_id":"…","span_id":"…"`, kept in the outermost span's extensions.
pub(crate) struct TraceIds(pub(crate) String);

/// Finds the ids before the log layer writes the line: it must come after the OpenTelemetry
/// layer and before the log layer.
#[derive(Default)]
pub(crate) struct TraceIdsLayer {
    dispatch: OnceLock<WeakDispatch>,
}

impl<S> Layer<S> for TraceIdsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        let _ = self.dispatch.set(dispatch.downgrade());
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(root) = ctx
            .event_scope(event)
            .and_then(|scope| scope.from_root().next())
        else {
            return;
        };
        if root.extensions().get::<TraceIds>().is_some() {
            return;
        }
        // Not when the span opens: an adapter sets its parent (the caller's trace) after that,
        // and reading the context starts the span.
        let Some(ids) = self
            .dispatch
            .get()
            .and_then(WeakDispatch::upgrade)
            .and_then(|dispatch| otel_ids(&root.id(), &dispatch))
        else {
            return;
        };
        root.extensions_mut().insert(ids);
    }
}

fn otel_ids(id: &Id, dispatch: &Dispatch) -> Option<TraceIds> {
    let context = tracing_opentelemetry::get_otel_context(id, dispatch)?;
    let span = context.span();
    let ids = span.span_context();
    ids.is_valid().then(|| {
        TraceIds(format!(
            r#""trace_id":"{}","span_id":"{}""#,
            ids.trace_id(),
            ids.span_id()
        ))
    })
}
