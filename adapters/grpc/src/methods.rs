//! Every method analytics-rpc answers, in one table: metric labels, span names and breakers
//! exist for these and for nothing else, so a caller inventing paths can't make the server
//! grow a series or a breaker per path. A test holds the table to the services' descriptors.

use prost::Message;

use crate::proto::{GetClickCountRequest, GetClickStatsRequest};

/// The metric label and span name of a path that is none of [`METHODS`].
pub(crate) const OTHER: &str = "other";

/// Whether a body is one well-formed request message of a method.
pub(crate) type Decodes = fn(&[u8]) -> Result<(), prost::DecodeError>;

pub(crate) struct Method {
    pub(crate) path: &'static str,
    /// One of this service's own methods (`analytics.v1.Analytics`), which its breakers guard;
    /// the rest are grpc.health.v1 and reflection.
    pub(crate) own: bool,
    /// For the methods that take one request message (reflection streams its requests).
    pub(crate) decodes: Option<Decodes>,
}

fn decodes<M: Message + Default>(bytes: &[u8]) -> Result<(), prost::DecodeError> {
    M::decode(bytes).map(drop)
}

pub(crate) const METHODS: [Method; 5] = [
    Method {
        path: "/analytics.v1.Analytics/GetClickCount",
        own: true,
        decodes: Some(decodes::<GetClickCountRequest>),
    },
    Method {
        path: "/analytics.v1.Analytics/GetClickStats",
        own: true,
        decodes: Some(decodes::<GetClickStatsRequest>),
    },
    Method {
        path: "/grpc.health.v1.Health/Check",
        own: false,
        decodes: Some(decodes::<tonic_health::pb::HealthCheckRequest>),
    },
    Method {
        path: "/grpc.health.v1.Health/Watch",
        own: false,
        decodes: Some(decodes::<tonic_health::pb::HealthCheckRequest>),
    },
    Method {
        path: "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        own: false,
        decodes: None,
    },
];

pub(crate) fn find(path: &str) -> Option<&'static Method> {
    METHODS.iter().find(|m| m.path == path)
}

/// The path itself when it is one of [`METHODS`], else [`OTHER`].
pub(crate) fn label(path: &str) -> &'static str {
    find(path).map_or(OTHER, |m| m.path)
}

/// The service's own methods: the ones its breakers guard.
pub fn own_methods() -> impl Iterator<Item = &'static str> {
    METHODS.iter().filter(|m| m.own).map(|m| m.path)
}

#[cfg(test)]
mod tests {
    use prost_types::FileDescriptorSet;

    use super::*;
    use crate::proto::FILE_DESCRIPTOR_SET;

    /// `/package.Service/Method` of every method in a descriptor set, and whether its client
    /// streams.
    fn described(set: &[u8]) -> Vec<(String, bool)> {
        let set = FileDescriptorSet::decode(set).unwrap();
        let mut methods = Vec::new();
        for file in set.file {
            for service in &file.service {
                for method in &service.method {
                    methods.push((
                        format!("/{}.{}/{}", file.package(), service.name(), method.name()),
                        method.client_streaming(),
                    ));
                }
            }
        }
        methods
    }

    #[test]
    fn the_table_is_every_method_served_and_nothing_else() {
        let mut served = described(FILE_DESCRIPTOR_SET);
        served.extend(described(tonic_health::pb::FILE_DESCRIPTOR_SET));
        served.extend(described(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET));
        let mut table: Vec<(String, bool)> = METHODS
            .iter()
            .map(|m| (m.path.to_owned(), m.decodes.is_none()))
            .collect();
        served.sort();
        table.sort();
        // A method whose client streams can't be checked as one message; every other is.
        assert_eq!(table, served);
        let own: Vec<&str> = own_methods().collect();
        let analytics: Vec<String> = described(FILE_DESCRIPTOR_SET)
            .into_iter()
            .map(|(path, _)| path)
            .collect();
        assert_eq!(own, analytics);
    }

    #[test]
    fn unknown_paths_share_one_label() {
        assert_eq!(
            label("/analytics.v1.Analytics/GetClickCount"),
            "/analytics.v1.Analytics/GetClickCount"
        );
        assert_eq!(label("/analytics.v1.Analytics/DropTables"), OTHER);
        assert_eq!(label("/x"), OTHER);
        assert_eq!(label(""), OTHER);
    }
}
