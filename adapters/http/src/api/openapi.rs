//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of this API, kept true by a test
//! against the route table (`routes.rs`) and by schemathesis against the running server.

use bytes::Bytes;
use http::Response;
use http::header::{CONTENT_TYPE, HeaderValue};

/// The document, as written in the repository.
pub(crate) const DOCUMENT: &str = include_str!("../../openapi.json");

pub(super) fn document() -> Response<Bytes> {
    let mut res = Response::new(Bytes::from_static(DOCUMENT.as_bytes()));
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::api::routes::ROUTES;

    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    #[test]
    fn documents_exactly_the_routes_the_server_registers() {
        let document: Value = serde_json::from_str(DOCUMENT).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, _) in item.as_object().unwrap() {
                if METHODS.contains(&method.as_str()) {
                    documented.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        let mut registered: Vec<(String, String)> = ROUTES
            .iter()
            .map(|route| (route.method.to_string(), route.openapi_path()))
            .collect();
        documented.sort();
        registered.sort();
        assert_eq!(documented, registered);
    }

    #[test]
    fn the_document_says_which_routes_need_a_key_and_which_are_limited() {
        let document: Value = serde_json::from_str(DOCUMENT).unwrap();
        assert_eq!(document["security"][0]["bearer"], serde_json::json!([]));
        for route in &ROUTES {
            let path = route.openapi_path();
            let method = route.method.to_string().to_lowercase();
            let operation = &document["paths"][&path][&method];
            let open = operation["security"] == serde_json::json!([]);
            assert_eq!(open, route.endpoint.is_public(), "{method} {path}");
            let refuses = operation["responses"]["401"].is_object();
            assert_eq!(refuses, !route.endpoint.is_public(), "{method} {path}: 401");
            let limited = operation["responses"]["429"].is_object();
            assert_eq!(
                limited,
                route.endpoint.budget().is_some(),
                "{method} {path}: 429"
            );
        }
    }

    #[test]
    fn every_reference_resolves() {
        let document: Value = serde_json::from_str(DOCUMENT).unwrap();
        let mut pending = vec![&document];
        while let Some(value) = pending.pop() {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(reference)) = map.get("$ref") {
                        let pointer = reference.strip_prefix('#').unwrap();
                        assert!(document.pointer(pointer).is_some(), "{reference}");
                    }
                    pending.extend(map.values());
                }
                Value::Array(items) => pending.extend(items),
                _ => {}
            }
        }
    }
}
