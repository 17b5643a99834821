// C shim over libwebp's animation decoder (the API Pillow's _webp.c uses for every WebP, still or
// animated): the first frame as RGBA on the canvas. Errors come back as a status and a message.
#pragma once
#include <stddef.h>
#include <stdint.h>

enum {
    CWEBP_OK = 0,
    CWEBP_CORRUPT = 1,
    CWEBP_TRUNCATED = 2,
    CWEBP_UNSUPPORTED = 3,
    CWEBP_TOO_LARGE = 4,   // the canvas has more pixels than max_pixels
    CWEBP_BUFFER = 5,      // out_capacity too small (caller bug)
};

typedef struct {
    uint32_t width;      // canvas size
    uint32_t height;
    int has_alpha;       // WebPGetFeatures' has_alpha (1 when it cannot tell, as Pillow)
    int frame_count;
} cwebp_info;

/// Parses the RIFF container (without decoding pixels) and checks the canvas against max_pixels.
int cwebp_read_header(const uint8_t *data, size_t size, uint64_t max_pixels, cwebp_info *info,
                      char *msg, size_t msg_capacity);

/// Decodes the first frame into `out`: width · height · 4 bytes, RGBA, not premultiplied.
int cwebp_decode(const uint8_t *data, size_t size, uint64_t max_pixels, cwebp_info *info,
                 uint8_t *out, size_t out_capacity, char *msg, size_t msg_capacity);
