// Invariant for the CoRE Link Format parser (RFC 6690), shared by the fuzz
// target `link_format` and the stable corpus replay test.
//
// Parsing never panics and honours its limits; a payload whose every
// link-value parses re-emits, through the writer, to exactly the same bytes
// (the parser keeps targets and values as written, so nothing is lost);
// unescaping quoted values never panics.

/// Checks one input; panics if an invariant is broken.
pub fn check(data: &[u8]) {
    use lwm2m_core::buf::Writer;
    use lwm2m_core::content::link::{LinkLimits, LinkParser, LinkWriter};
    let limits = LinkLimits {
        max_links: 64,
        max_params: 8,
    };
    let mut links = Vec::new();
    for link in LinkParser::new(data, limits) {
        match link {
            Ok(l) => links.push(l),
            Err(_) => return,
        }
    }
    assert!(links.len() <= limits.max_links, "link limit not enforced");
    let mut out = vec![0u8; data.len() + 1];
    let mut w = Writer::new(&mut out);
    let mut lw = LinkWriter::new(&mut w);
    for l in &links {
        match l.target {
            Some(t) => lw.link(t).expect("fits"),
            None => lw.bare().expect("fits"),
        }
        let mut n = 0;
        for p in l.params() {
            lw.param(&p).expect("fits");
            if let Some(v) = p.value {
                let _ = v.text();
            }
            n += 1;
        }
        assert!(n <= limits.max_params, "parameter limit not enforced");
        let _ = l.path("");
    }
    assert_eq!(w.written(), data, "parse then emit is the identity");
}
