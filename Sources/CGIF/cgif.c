// giflib behind a status-returning API, reading the records the way Pillow's GifImagePlugin._seek(0)
// does: graphic control extensions before the first image give its transparent index; the first
// image descriptor gives its extent, interlacing and (local or global) palette.
#include "cgif.h"

#include <gif_lib.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t pos;
    int ran_out;
} cgif_source;

static int cgif_read_fn(GifFileType *gif, GifByteType *out, int length) {
    cgif_source *src = (cgif_source *)gif->UserData;
    size_t n = (size_t)length;
    if (n > src->size - src->pos) {
        n = src->size - src->pos;
        src->ran_out = 1;
    }
    memcpy(out, src->data + src->pos, n);
    src->pos += n;
    return (int)n;
}

static int cgif_fail(GifFileType *gif, cgif_source *src, int err, char *msg, size_t cap) {
    int status = (src->ran_out || err == D_GIF_ERR_READ_FAILED || err == D_GIF_ERR_EOF_TOO_SOON)
                     ? CGIF_TRUNCATED : CGIF_CORRUPT;
    const char *text = GifErrorString(err);
    snprintf(msg, cap, "%s", text ? text : "giflib error");
    if (gif) {
        int ignored;
        DGifCloseFile(gif, &ignored);
    }
    return status;
}

// Opens the GIF and walks to the first image descriptor, filling `info`. On success *out_gif is open.
static int cgif_open(cgif_source *src, uint64_t max_pixels, cgif_info *info, GifFileType **out_gif,
                     char *msg, size_t cap) {
    int err = 0;
    memset(info, 0, sizeof *info);
    info->transparency = -1;
    GifFileType *gif = DGifOpen(src, cgif_read_fn, &err);
    if (!gif) return cgif_fail(NULL, src, err, msg, cap);
    for (;;) {
        GifRecordType type;
        if (DGifGetRecordType(gif, &type) == GIF_ERROR) return cgif_fail(gif, src, gif->Error, msg, cap);
        if (type == TERMINATE_RECORD_TYPE) {
            snprintf(msg, cap, "image not found in GIF frame");
            int ignored;
            DGifCloseFile(gif, &ignored);
            return CGIF_CORRUPT;
        }
        if (type == EXTENSION_RECORD_TYPE) {
            int code;
            GifByteType *ext = NULL;
            if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR) return cgif_fail(gif, src, gif->Error, msg, cap);
            // Pillow: the first sub-block of a GCE; flags bit 0 → transparency = block[3]
            if (code == GRAPHICS_EXT_FUNC_CODE && ext && ext[0] >= 4 && (ext[1] & 1)) info->transparency = ext[4];
            while (ext) {
                if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR) return cgif_fail(gif, src, gif->Error, msg, cap);
            }
            continue;
        }
        if (type == IMAGE_DESC_RECORD_TYPE) {
            if (DGifGetImageDesc(gif) == GIF_ERROR) return cgif_fail(gif, src, gif->Error, msg, cap);
            GifImageDesc *d = &gif->Image;
            info->left = (uint32_t)d->Left;
            info->top = (uint32_t)d->Top;
            info->frame_width = (uint32_t)d->Width;
            info->frame_height = (uint32_t)d->Height;
            info->interlaced = d->Interlace ? 1 : 0;
            uint64_t w = (uint64_t)gif->SWidth, h = (uint64_t)gif->SHeight;
            if (info->left + (uint64_t)info->frame_width > w) w = info->left + (uint64_t)info->frame_width;
            if (info->top + (uint64_t)info->frame_height > h) h = info->top + (uint64_t)info->frame_height;
            info->width = (uint32_t)w;
            info->height = (uint32_t)h;
            if (w * h > max_pixels) {
                int ignored;
                DGifCloseFile(gif, &ignored);
                snprintf(msg, cap, "%llux%llu", (unsigned long long)w, (unsigned long long)h);
                return CGIF_TOO_LARGE;
            }
            ColorMapObject *map = d->ColorMap ? d->ColorMap : gif->SColorMap;
            if (map) {
                int n = map->ColorCount > 256 ? 256 : map->ColorCount;
                info->palette_count = n;
                for (int i = 0; i < n; i++) {
                    info->palette[3 * i] = map->Colors[i].Red;
                    info->palette[3 * i + 1] = map->Colors[i].Green;
                    info->palette[3 * i + 2] = map->Colors[i].Blue;
                }
            }
            *out_gif = gif;
            return CGIF_OK;
        }
        snprintf(msg, cap, "unknown record type");
        int ignored;
        DGifCloseFile(gif, &ignored);
        return CGIF_CORRUPT;
    }
}

int cgif_read_header(const uint8_t *data, size_t size, uint64_t max_pixels, cgif_info *info,
                     char *msg, size_t msg_capacity) {
    cgif_source src = {data, size, 0, 0};
    GifFileType *gif = NULL;
    int st = cgif_open(&src, max_pixels, info, &gif, msg, msg_capacity);
    if (st == CGIF_OK) {
        int ignored;
        DGifCloseFile(gif, &ignored);
    }
    return st;
}

int cgif_decode(const uint8_t *data, size_t size, uint64_t max_pixels, cgif_info *info,
                uint8_t *out, size_t out_capacity, char *msg, size_t msg_capacity) {
    cgif_source src = {data, size, 0, 0};
    GifFileType *gif = NULL;
    int st = cgif_open(&src, max_pixels, info, &gif, msg, msg_capacity);
    if (st != CGIF_OK) return st;
    size_t w = info->width, h = info->height;
    if (out_capacity < w * h) {
        int ignored;
        DGifCloseFile(gif, &ignored);
        snprintf(msg, msg_capacity, "output buffer too small");
        return CGIF_BUFFER;
    }
    memset(out, info->transparency >= 0 ? info->transparency : 0, w * h);
    // The interlaced row order: passes starting at rows 0, 4, 2, 1 with steps 8, 8, 4, 2.
    static const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
    int passes = info->interlaced ? 4 : 1;
    for (int p = 0; p < passes; p++) {
        int y0 = info->interlaced ? start[p] : 0, dy = info->interlaced ? step[p] : 1;
        for (uint32_t y = (uint32_t)y0; y < info->frame_height; y += (uint32_t)dy) {
            uint8_t *row = out + (size_t)(info->top + y) * w + info->left;
            if (DGifGetLine(gif, row, (int)info->frame_width) == GIF_ERROR) {
                return cgif_fail(gif, &src, gif->Error, msg, msg_capacity);
            }
        }
    }
    int ignored;
    DGifCloseFile(gif, &ignored);
    return CGIF_OK;
}
