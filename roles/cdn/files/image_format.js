// CloudFront Function (runtime cloudfront-js-2.0, viewer request) on the /img/* behavior.
//
// fmt=auto asks for the best format the viewer decodes. The behavior keys its cache on the Accept
// header, so this function first reduces Accept to one of three values: "image/avif" (AVIF, and
// with it WebP: every browser that decodes AVIF decodes WebP), "image/webp", or no header at all
// (JPEG, or PNG for transparency: the origin chooses). Requests with any other fmt lose the header,
// which the origin does not read for them: one cache entry per variant, whatever browser asks.
// The origin applies the same rule to a raw Accept (image_api/negotiation.py; a test holds the two
// to one answer), so a request that skips the edge is answered alike.
//
// Plain ES5 on purpose: it runs unchanged on CloudFront and under NGINX's njs on the local edge.
var PREFERRED_TYPES = ['image/avif', 'image/webp'];
var REFUSED = /^q=0(\.0{0,3})?$/;

function accepts(accept, type) {
    var ranges = accept.toLowerCase().split(',');
    for (var i = 0; i < ranges.length; i++) {
        var parts = ranges[i].split(';');
        if (parts[0].trim() !== type) {
            continue;
        }
        for (var j = 1; j < parts.length; j++) {
            if (REFUSED.test(parts[j].trim())) {
                return false;
            }
        }
        return true;
    }
    return false;
}

function preferredType(accept) {
    for (var i = 0; i < PREFERRED_TYPES.length; i++) {
        if (accepts(accept, PREFERRED_TYPES[i])) {
            return PREFERRED_TYPES[i];
        }
    }
    return '';
}

function handler(event) {
    var request = event.request;
    var fmt = request.querystring.fmt;
    var accept = request.headers.accept ? request.headers.accept.value : '';
    delete request.headers.accept;
    if (fmt && fmt.value === 'auto') {
        var type = preferredType(accept);
        if (type) {
            request.headers.accept = { value: type };
        }
    }
    return request;
}
