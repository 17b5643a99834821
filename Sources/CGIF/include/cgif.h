// C shim over giflib: the first frame of a GIF held in memory, as palette indices on the canvas
// Pillow's GifImagePlugin builds for frame 0. Errors come back as a status and a message; giflib
// reports errors by return codes, so nothing here jumps or prints.
#pragma once
#include <stddef.h>
#include <stdint.h>

enum {
    CGIF_OK = 0,
    CGIF_CORRUPT = 1,
    CGIF_TRUNCATED = 2,
    CGIF_UNSUPPORTED = 3,
    CGIF_TOO_LARGE = 4,   // the canvas has more pixels than max_pixels
    CGIF_BUFFER = 5,      // out_capacity too small (caller bug)
};

typedef struct {
    uint32_t width;          // canvas: the logical screen, grown to hold the first frame (as Pillow)
    uint32_t height;
    uint32_t left, top;      // the first frame's extent on the canvas
    uint32_t frame_width, frame_height;
    int interlaced;
    int transparency;        // the transparent index from the frame's graphic control extension, or -1
    int palette_count;       // entries of the frame's palette (local if present, else global); 0: none
    uint8_t palette[768];    // RGB triples
} cgif_info;

/// Reads the screen descriptor, the extensions before the first image and its descriptor.
int cgif_read_header(const uint8_t *data, size_t size, uint64_t max_pixels, cgif_info *info,
                     char *msg, size_t msg_capacity);

/// Decodes the first frame into `out` (width · height indices, row-major): pixels outside the
/// frame hold the transparent index if there is one, else 0 (Pillow's load_prepare fill).
int cgif_decode(const uint8_t *data, size_t size, uint64_t max_pixels, cgif_info *info,
                uint8_t *out, size_t out_capacity, char *msg, size_t msg_capacity);
