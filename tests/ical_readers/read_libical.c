/* Reads iCalendar files with libical (the C library behind Evolution and many servers).
 * For each path given: "FILE\t<path>", then "ERROR\t<text>" for an unparsable file and every
 * X-LIC-ERROR that parsing or icalrestriction_check added, "COMPONENTS\t<n>", and for each VEVENT
 * "EVENT\t<uid hex>\t<start unix>\t<end unix>\t<summary hex>" with instants from
 * icaltime_as_timet_with_zone (the zone libical built from the file's own VTIMEZONE). */
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

static void hex(const char *s) {
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) printf("%02x", *p);
}

static void print_errors(icalcomponent *c) {
    for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY); p;
         p = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY)) {
        printf("ERROR\t%s: ", icalcomponent_kind_to_string(icalcomponent_isa(c)));
        hex(icalproperty_get_xlicerror(p));
        printf("\n");
    }
    for (icalcomponent *s = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); s;
         s = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
        print_errors(s);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        printf("FILE\t%s\n", argv[i]);
        char *text = slurp(argv[i]);
        icalcomponent *cal = text ? icalparser_parse_string(text) : NULL;
        if (!cal || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
            printf("ERROR\tnot a VCALENDAR\n");
            free(text);
            continue;
        }
        icalrestriction_check(cal);
        print_errors(cal);
        printf("COMPONENTS\t%d\n", icalcomponent_count_components(cal, ICAL_ANY_COMPONENT));
        for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev;
             ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
            struct icaltimetype start = icalcomponent_get_dtstart(ev), end = icalcomponent_get_dtend(ev);
            if (!start.zone || !end.zone) printf("ERROR\tfloating time in %s\n", icalcomponent_get_uid(ev));
            printf("EVENT\t");
            hex(icalcomponent_get_uid(ev));
            printf("\t%lld\t%lld\t", (long long)icaltime_as_timet_with_zone(start, start.zone),
                   (long long)icaltime_as_timet_with_zone(end, end.zone));
            hex(icalcomponent_get_summary(ev));
            printf("\n");
        }
        icalcomponent_free(cal);
        free(text);
    }
    return 0;
}
