/* libFuzzer target: campaign files (the strict JSON reader and validation)
 * and the preview renderer (placeholders, then HTML as text), on the same
 * input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authoring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    struct authoring_draft d;
    struct authoring_problems p = { .n = 0 };
    authoring_draft_init(&d);
    if (authoring_draft_parse(&d, text, &p) == 0) {
        authoring_validate(&d, &p);
        json_t *o = authoring_draft_to_json(&d);
        json_decref(o);
    }
    authoring_draft_free(&d);

    char *r = authoring_render(text, "{\"first_name\": \"Ann\", \"n\": 3}", "a@example.com");
    free(r);
    r = authoring_html_to_text(text);
    free(r);
    free(text);
    return 0;
}
