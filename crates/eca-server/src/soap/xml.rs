//! Writing SOAP 1.1 responses the way Salesforce writes them: a `soapenv` envelope, the
//! partner namespace as the default namespace of the body, `xsi:nil` for empty values, and
//! faults in the `urn:fault.partner.soap.sforce.com` namespace bound to `sf`.

use std::borrow::Cow;

/// SOAP 1.1 envelope namespace (SOAP 1.1 §4.1.2).
pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The partner WSDL's namespace.
pub const PARTNER_NS: &str = "urn:partner.soap.sforce.com";
/// The namespace of partner API fault details.
pub const FAULT_NS: &str = "urn:fault.partner.soap.sforce.com";
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The `Content-Type` Salesforce answers SOAP calls with.
pub const CONTENT_TYPE: &str = "text/xml;charset=UTF-8";

/// The deepest element nesting a SOAP request may have. The deepest real one (Metadata API
/// `createMetadata` of an app's OAuth policies with custom attributes) is about a dozen
/// levels; the limit keeps the readers that walk a request by recursion within their stack.
pub const MAX_REQUEST_DEPTH: usize = 64;

/// Whether `doc` nests nodes deeper than [`MAX_REQUEST_DEPTH`], found without recursion: in
/// document order a parent comes before its children, so one pass gives every node its depth.
pub fn too_deep(doc: &roxmltree::Document<'_>) -> bool {
    let mut depths: Vec<usize> = Vec::new();
    for node in doc.descendants() {
        let depth = node
            .parent()
            .and_then(|p| depths.get(p.id().get_usize()).copied())
            .map_or(0, |d| d + 1);
        if depth > MAX_REQUEST_DEPTH {
            return true;
        }
        let at = node.id().get_usize();
        if depths.len() <= at {
            depths.resize(at + 1, 0);
        }
        depths[at] = depth;
    }
    false
}

/// Escapes text for element content and attribute values.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['<', '>', '&', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Builds the elements of a response body.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    pub fn open(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// `<name>text</name>`.
    pub fn text(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name);
        self.out.push_str(&escape(text));
        self.close(name)
    }

    pub fn bool(&mut self, name: &str, value: bool) -> &mut Self {
        self.text(name, if value { "true" } else { "false" })
    }

    /// `<name>text</name>`, or `<name xsi:nil="true"/>` when there is no value.
    pub fn opt(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        match text {
            Some(t) => self.text(name, t),
            None => {
                self.out.push('<');
                self.out.push_str(name);
                self.out.push_str(" xsi:nil=\"true\"/>");
                self
            }
        }
    }

    /// `<name/>`.
    pub fn empty(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str("/>");
        self
    }

    /// The body wrapped in an envelope whose default namespace is the partner namespace.
    pub fn into_envelope(self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"{SOAP_ENV}\" \
             xmlns=\"{PARTNER_NS}\" xmlns:xsi=\"{XSI_NS}\"><soapenv:Body>{}</soapenv:Body></soapenv:Envelope>",
            self.out
        )
    }
}

/// A fault envelope: `faultcode`, `faultstring`, and for `sf:` codes a `detail` with
/// `<sf:{type} xsi:type="sf:{type}">` holding `exceptionCode` and `exceptionMessage`, which is
/// what simple-salesforce reads (`sf:exceptionCode`, `sf:exceptionMessage`).
pub fn fault(code: &str, faultstring: &str, detail: Option<(&str, &str)>, message: &str) -> String {
    let mut body = format!(
        "<soapenv:Fault><faultcode>{}</faultcode><faultstring>{}</faultstring>",
        escape(code),
        escape(faultstring)
    );
    if let Some((kind, exception_code)) = detail {
        body.push_str(&format!(
            "<detail><sf:{kind} xsi:type=\"sf:{kind}\"><sf:exceptionCode>{}</sf:exceptionCode>\
             <sf:exceptionMessage>{}</sf:exceptionMessage></sf:{kind}></detail>",
            escape(exception_code),
            escape(message)
        ));
    }
    body.push_str("</soapenv:Fault>");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"{SOAP_ENV}\" \
         xmlns:sf=\"{FAULT_NS}\" xmlns:xsi=\"{XSI_NS}\"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_nils() {
        let mut w = Writer::default();
        w.open("r").text("a", "x<&>\"'").opt("b", None).close("r");
        let env = w.into_envelope();
        assert!(env.contains("<a>x&lt;&amp;&gt;&quot;&apos;</a><b xsi:nil=\"true\"/>"));
        let doc = roxmltree::Document::parse(&env).unwrap();
        let a = doc.descendants().find(|n| n.has_tag_name("a")).unwrap();
        assert_eq!(a.text(), Some("x<&>\"'"));
        assert_eq!(a.tag_name().namespace(), Some(PARTNER_NS));
    }
}
