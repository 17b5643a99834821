// libjpeg behind a status-returning API. Pillow (JpegDecode.c) keeps libjpeg's defaults:
// JDCT_ISLOW, do_fancy_upsampling = TRUE, no scaling, and asks for L, RGB or CMYK output by the
// number of components in the frame header; 4-component files are inverted ("CMYK;I").
#include "cjpeg.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char *msg;
    size_t msg_capacity;
    int saw_eof;  // libjpeg's source ran dry and it inserted a fake EOI (JWRN_JPEG_EOF)
} cjpeg_error;

static void cjpeg_error_exit(j_common_ptr cinfo) {
    cjpeg_error *err = (cjpeg_error *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    if (err->msg && err->msg_capacity) snprintf(err->msg, err->msg_capacity, "%s", text);
    longjmp(err->jump, 1);
}

// Warnings are silent, as in Pillow, except that running out of data is remembered.
static void cjpeg_emit_message(j_common_ptr cinfo, int level) {
    cjpeg_error *err = (cjpeg_error *)cinfo->err;
    if (level < 0) {
        if (cinfo->err->msg_code == JWRN_JPEG_EOF) err->saw_eof = 1;
        cinfo->err->num_warnings++;
    }
}

static void cjpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

// A progressive JPEG may repeat scans without limit, and each costs a pass over the whole
// coefficient buffer (100,000 one-byte scans take ~20 s): past CJPEG_MAX_SCANS the file is refused
// from libjpeg's progress monitor, which runs between input passes.
static void cjpeg_progress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > CJPEG_MAX_SCANS) {
        cjpeg_error *err = (cjpeg_error *)cinfo->err;
        if (err->msg && err->msg_capacity)
            snprintf(err->msg, err->msg_capacity, "the JPEG has more than %d scans (real progressive files have about ten); refused", CJPEG_MAX_SCANS);
        longjmp(err->jump, 1);
    }
}

static void set_msg(char *msg, size_t cap, const char *text) {
    if (msg && cap) snprintf(msg, cap, "%s", text);
}

static int cjpeg_run(const uint8_t *data, size_t size, uint64_t max_pixels, cjpeg_info *info,
                     uint8_t *out, size_t out_capacity, int header_only, char *msg, size_t cap) {
    struct jpeg_decompress_struct cinfo;
    cjpeg_error err;
    volatile int status = CJPEG_OK;
    memset(info, 0, sizeof *info);
    if (size == 0) {
        set_msg(msg, cap, "empty input");
        return CJPEG_TRUNCATED;
    }
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = cjpeg_error_exit;
    err.pub.emit_message = cjpeg_emit_message;
    err.pub.output_message = cjpeg_output_message;
    err.msg = msg;
    err.msg_capacity = cap;
    err.saw_eof = 0;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return err.saw_eof ? CJPEG_TRUNCATED : CJPEG_CORRUPT;
    }
    jpeg_create_decompress(&cinfo);
    struct jpeg_progress_mgr progress;
    memset(&progress, 0, sizeof progress);
    progress.progress_monitor = cjpeg_progress;
    cinfo.progress = &progress;
    jpeg_mem_src(&cinfo, (const unsigned char *)data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (err.saw_eof) {
        set_msg(msg, cap, "the data ends inside the JPEG header");
        status = CJPEG_TRUNCATED;
        goto done;
    }
    info->width = (int)cinfo.image_width;
    info->height = (int)cinfo.image_height;
    info->components = cinfo.num_components;
    info->jpeg_color_space = (int)cinfo.jpeg_color_space;
    info->progressive = cinfo.progressive_mode ? 1 : 0;
    switch (cinfo.num_components) {
    case 1: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case 3: cinfo.out_color_space = JCS_RGB; break;
    case 4: cinfo.out_color_space = JCS_CMYK; break;
    default:
        snprintf(msg, cap, "cannot handle %d-layer images", cinfo.num_components);
        status = CJPEG_UNSUPPORTED;
        goto done;
    }
    if ((uint64_t)cinfo.image_width * (uint64_t)cinfo.image_height > max_pixels) {
        snprintf(msg, cap, "the header declares %ux%u pixels", cinfo.image_width, cinfo.image_height);
        status = CJPEG_TOO_LARGE;
        goto done;
    }
    if (header_only) goto done;
    {
        size_t row = (size_t)cinfo.image_width * (size_t)cinfo.num_components;
        if (out == NULL || out_capacity < row * cinfo.image_height) {
            set_msg(msg, cap, "output buffer too small");
            status = CJPEG_BUFFER;
            goto done;
        }
        jpeg_start_decompress(&cinfo);
        if (cinfo.output_components != info->components) {
            set_msg(msg, cap, "libjpeg chose an unexpected output layout");
            status = CJPEG_UNSUPPORTED;
            goto done;
        }
        while (cinfo.output_scanline < cinfo.output_height) {
            if (err.saw_eof) break;
            JSAMPROW rowp = out + (size_t)cinfo.output_scanline * row;
            if (jpeg_read_scanlines(&cinfo, &rowp, 1) != 1) break;
        }
        // Pillow raises "image file is truncated" when the data runs out before the last row;
        // running out afterwards (a missing EOI) is accepted, as in Pillow.
        if (err.saw_eof || cinfo.output_scanline < cinfo.output_height) {
            set_msg(msg, cap, "image file is truncated");
            status = CJPEG_TRUNCATED;
            goto done;
        }
        if (info->components == 4) {
            size_t n = row * cinfo.image_height;
            for (size_t i = 0; i < n; i++) out[i] = (uint8_t)~out[i];
        }
        jpeg_finish_decompress(&cinfo);
    }
done:
    jpeg_destroy_decompress(&cinfo);
    return status;
}

int cjpeg_read_header(const uint8_t *data, size_t size, uint64_t max_pixels, cjpeg_info *info,
                      char *msg, size_t msg_capacity) {
    return cjpeg_run(data, size, max_pixels, info, NULL, 0, 1, msg, msg_capacity);
}

int cjpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, cjpeg_info *info,
                 uint8_t *out, size_t out_capacity, char *msg, size_t msg_capacity) {
    return cjpeg_run(data, size, max_pixels, info, out, out_capacity, 0, msg, msg_capacity);
}
