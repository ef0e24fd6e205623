//! Pipeline names as reports group them. Deployment events carry the pipeline as typed by
//! whoever configured the release (`Pipeline A`, `pipeline_a`, ` PIPELINE-A `); a report
//! attributes all of them to one normalized name (`pipeline-a`).

use std::borrow::Cow;

/// The name a deployment without a usable pipeline name is attributed to.
pub const UNKNOWN_PIPELINE: &str = "unknown";

/// The normalized form of a pipeline name:
///
/// 1. runs of separators (whitespace, `_` and `-`) become one `-`, and separators at either
///    end are dropped (this is the trim);
/// 2. letters are lowercased (Unicode lowercase mapping);
/// 3. a name with nothing left (empty, blank, only separators) becomes
///    [`UNKNOWN_PIPELINE`].
///
/// Every other character is kept as it is (renderers escape it). Normalizing twice changes
/// nothing. Already normalized names are returned borrowed, without allocating.
///
/// ```
/// use stellaops_outcome_analytics::normalize_pipeline;
///
/// assert_eq!(normalize_pipeline("Pipeline A"), "pipeline-a");
/// assert_eq!(normalize_pipeline("pipeline_a"), "pipeline-a");
/// assert_eq!(normalize_pipeline(" PIPELINE-A "), "pipeline-a");
/// assert_eq!(normalize_pipeline("billing  __ api"), "billing-api");
/// assert_eq!(normalize_pipeline("   "), "unknown");
/// assert_eq!(normalize_pipeline(""), "unknown");
/// ```
pub fn normalize_pipeline(raw: &str) -> Cow<'_, str> {
    if is_normalized(raw) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut separator_pending = false;
    for c in raw.chars() {
        if is_separator(c) {
            separator_pending = !out.is_empty();
            continue;
        }
        if separator_pending {
            out.push('-');
            separator_pending = false;
        }
        out.extend(c.to_lowercase());
    }
    if out.is_empty() {
        Cow::Borrowed(UNKNOWN_PIPELINE)
    } else {
        Cow::Owned(out)
    }
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || c == '_' || c == '-'
}

/// The fast path: printable ASCII without uppercase letters, whitespace or `_`, and `-` only
/// between other characters, one at a time.
fn is_normalized(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    !bytes.is_empty()
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
        && !raw.contains("--")
        && bytes
            .iter()
            .all(|&b| b.is_ascii_graphic() && b != b'_' && !b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::normalize_pipeline;
    use std::borrow::Cow;

    #[test]
    fn spellings_of_one_name_are_one_pipeline() {
        for raw in ["Pipeline A", "pipeline_a", " PIPELINE-A ", "pipeline-a"] {
            assert_eq!(normalize_pipeline(raw), "pipeline-a", "{raw:?}");
        }
    }

    #[test]
    fn separators_collapse_and_ends_are_trimmed() {
        assert_eq!(normalize_pipeline("a - b"), "a-b");
        assert_eq!(normalize_pipeline("__a__b__"), "a-b");
        assert_eq!(normalize_pipeline("a\t\nb"), "a-b");
        assert_eq!(normalize_pipeline("--x--"), "x");
        assert_eq!(normalize_pipeline("Ünïcode Straße"), "ünïcode-straße");
        assert_eq!(normalize_pipeline("<Script>"), "<script>");
    }

    #[test]
    fn nothing_left_is_unknown() {
        for raw in ["", " ", "\t", "_", "---", " _-_ "] {
            assert_eq!(normalize_pipeline(raw), "unknown", "{raw:?}");
        }
    }

    #[test]
    fn normalized_names_are_borrowed() {
        assert!(matches!(
            normalize_pipeline("api-gateway"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(normalize_pipeline("Api"), Cow::Owned(_)));
    }
}
