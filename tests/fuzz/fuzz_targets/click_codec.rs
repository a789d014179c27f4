//! The click event as it arrives from the Kafka topic, from anyone who can write to it: decoding
//! never panics, and an event it accepts is one a redirect could have published (it encodes
//! and decodes back to itself).
#![no_main]

use domain::Visit;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|payload: &[u8]| {
    let Ok(event) = adapter_kafka::decode(payload) else {
        return;
    };
    let visit = &event.visit;
    let held = Visit::parse(visit.ip, visit.user_agent.as_deref(), visit.referer.as_deref());
    assert_eq!(held.as_ref(), Ok(visit));
    let again = adapter_kafka::decode(&adapter_kafka::encode(&event));
    assert_eq!(again.as_ref().ok(), Some(&event));
});
