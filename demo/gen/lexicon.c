/* lexicon: see lexicon.h. */
#include "lexicon.h"

#include <ctype.h>
#include <string.h>

#include "util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

const struct country countries[] = {
    {"US", 300, R_EN, "en", "es", 8},  {"DE", 90, R_DE, "de", "en", 6},
    {"GB", 80, R_EN, "en", NULL, 0},   {"IN", 80, R_IN, "en", "hi", 30},
    {"FR", 70, R_FR, "fr", "en", 5},   {"BR", 60, R_PT, "pt", "en", 5},
    {"JP", 45, R_JA, "ja", "en", 4},   {"CA", 35, R_EN, "en", "fr", 22},
    {"ES", 35, R_ES, "es", "en", 5},   {"IT", 30, R_IT, "it", "en", 5},
    {"MX", 25, R_ES, "es", "en", 4},   {"NL", 25, R_NL, "nl", "en", 15},
    {"AU", 25, R_EN, "en", NULL, 0},   {"SE", 15, R_SV, "sv", "en", 12},
    {"PL", 15, R_PL, "pl", "en", 6},   {"IE", 10, R_EN, "en", NULL, 0},
    {"AT", 10, R_DE, "de", "en", 5},   {"CH", 10, R_DE, "de", "fr", 25},
};
const size_t ncountries = N(countries);

static const char *const first_src[R_NREGIONS][32] = {
    [R_EN] = {"James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda",
              "William", "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
              "Thomas", "Sarah", "Charles", "Karen", "Emily", "Olivia", "Liam", "Noah", "Emma",
              "Ava", "Sophia", "Mason", "Ethan", "Chloe", "Zoë", NULL},
    [R_DE] = {"Lukas", "Leon", "Finn", "Jonas", "Paul", "Felix", "Maximilian", "Elias", "Anna",
              "Lena", "Lea", "Hannah", "Mia", "Emma", "Sophie", "Marie", "Jürgen", "Günter",
              "Jörg", "Käthe", NULL},
    [R_FR] = {"Louis", "Gabriel", "Léo", "Raphaël", "Arthur", "Jules", "Hugo", "Lucas", "Chloé",
              "Léa", "Manon", "Camille", "Inès", "Zoé", "Hélène", "Amélie", "François", NULL},
    [R_ES] = {"Hugo", "Martín", "Lucas", "Mateo", "Alejandro", "Sofía", "Lucía", "María",
              "Martina", "Paula", "Valentina", "José", "Javier", "Inés", NULL},
    [R_PT] = {"João", "Miguel", "Arthur", "Gabriel", "Heitor", "Bernardo", "Helena", "Alice",
              "Laura", "Manuela", "Valentina", "Sophia", "Luíza", "Antônio", NULL},
    [R_IN] = {"Aarav", "Vivaan", "Aditya", "Vihaan", "Arjun", "Sai", "Reyansh", "Ananya", "Diya",
              "Priya", "Aadhya", "Saanvi", "Isha", "Rohan", "Kavya", NULL},
    [R_JA] = {"Haruto", "Yuto", "Sota", "Yuki", "Hayato", "Ren", "Yui", "Hina", "Sakura", "Aoi",
              "Mio", "Yuna", "Riko", NULL},
    [R_IT] = {"Leonardo", "Francesco", "Alessandro", "Lorenzo", "Mattia", "Sofia", "Giulia",
              "Aurora", "Alice", "Ginevra", "Niccolò", NULL},
    [R_NL] = {"Daan", "Sem", "Lucas", "Levi", "Finn", "Emma", "Julia", "Tess", "Sophie", "Zoë",
              NULL},
    [R_SV] = {"William", "Liam", "Noah", "Hugo", "Lucas", "Alice", "Maja", "Elsa", "Astrid",
              "Saga", "Åsa", NULL},
    [R_PL] = {"Jakub", "Antoni", "Jan", "Szymon", "Aleksander", "Zuzanna", "Julia", "Zofia",
              "Hanna", "Maja", "Łukasz", NULL},
};

static const char *const last_src[R_NREGIONS][32] = {
    [R_EN] = {"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
              "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White",
              "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott",
              "Green", "Baker", "Adams", "Nelson", "O'Brien", "McCarthy", NULL},
    [R_DE] = {"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
              "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
              "Schröder", "Neumann", "Schwarz", "Zimmermann", "Weiß", NULL},
    [R_FR] = {"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
              "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "François",
              NULL},
    [R_ES] = {"García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez",
              "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Núñez", NULL},
    [R_PT] = {"Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
              "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Araújo", "Conceição",
              NULL},
    [R_IN] = {"Sharma", "Verma", "Patel", "Gupta", "Singh", "Kumar", "Reddy", "Iyer", "Nair",
              "Mehta", "Rao", "Joshi", "Das", "Chopra", NULL},
    [R_JA] = {"Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
              "Kobayashi", "Kato", "Yoshida", "Yamada", NULL},
    [R_IT] = {"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
              "Marino", "Greco", "D'Angelo", NULL},
    [R_NL] = {"de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
              "Visser", "Smit", "Meijer", NULL},
    [R_SV] = {"Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
              "Persson", "Öberg", NULL},
    [R_PL] = {"Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński",
              "Lewandowski", "Zieliński", "Szymański", NULL},
};

struct person_name *first_names, *last_names;
size_t region_first[R_NREGIONS + 1], region_last[R_NREGIONS + 1];

const char *const plans[] = {"free", "pro", "team", "enterprise"};
const unsigned plan_weights[] = {60, 25, 11, 4};
const size_t nplans = N(plans);

const char *const email_domains[] = {"example.com", "example.org", "example.net"};
const unsigned email_domain_weights[] = {55, 25, 20};
const size_t nemail_domains = N(email_domains);

const struct segment_def segment_catalog[] = {
    {"Everyone", "All", "all"},
    {"Germany", "DE", "country = \"DE\""},
    {"Paying customers", "Paying", "plan in (\"pro\", \"team\", \"enterprise\")"},
    {"US, 30 and over", "US 30+", "age >= 30 and country = \"US\""},
    {"Enterprise accounts", "Enterprise", "plan = \"enterprise\""},
    {"French speakers", "FR", "language = \"fr\""},
    {"Customers for a year or more", "Loyal", "signup_date < \"{date}\""},
    {"Europe, free plan", "EU free",
     "country in (\"DE\", \"FR\", \"GB\", \"ES\", \"IT\", \"NL\", \"SE\", \"PL\", \"IE\", \"AT\") "
     "and plan = \"free\""},
    {"Young India and Brazil", "IN/BR", "age < 30 and country in (\"IN\", \"BR\")"},
    {"Free plan outside the US", "Upsell", "plan = \"free\" and not country = \"US\""},
    {"Japan", "JP", "country = \"JP\""},
    {"Team plans under 40", "Teams", "plan = \"team\" and age < 40"},
    {"UK and Ireland, pro or team", "UK/IE",
     "country in (\"GB\", \"IE\") and (plan = \"pro\" or plan = \"team\")"},
    {"Spanish speakers", "ES", "language = \"es\""},
    {"60 and over", "60+", "age >= 60"},
    {"Outside Germany and France", "ex-DE/FR", "country not in (\"DE\", \"FR\")"},
};
const size_t nsegment_catalog = N(segment_catalog);

const char *const from_addresses[] = {
    "Acme <news@acme.example>",
    "Acme Team <hello@acme.example>",
    "Acme Product <product@acme.example>",
    "Acme Billing <billing@acme.example>",
    "Maria from Acme <maria@acme.example>",
};
const size_t nfrom_addresses = N(from_addresses);
const char *const sms_sender = "ACME";
const char *const push_sender = "Acme app";

#define FOOTER "\n\n— The Acme team\nYou get this because you signed up at acme.example. Unsubscribe: https://acme.example/u"

const struct campaign_template templates[] = {
    {"Spring Sale", CH_EMAIL | CH_SMS | CH_PUSH, T_LABEL, 0,
     "Spring Sale: 20% off all annual plans",
     "{{first_name}}, spring savings are here",
     "Hi {{first_name}},\n\nOur Spring Sale starts today: 20% off every annual plan until Sunday.\n\n"
     "Upgrade now: https://acme.example/sale/spring" FOOTER,
     "Acme Spring Sale: 20% off annual plans until Sun. https://acme.example/s/spr Reply STOP to opt out",
     "Spring Sale", "20% off annual plans, this week only"},
    {"Summer Sale", CH_EMAIL | CH_SMS | CH_PUSH, T_LABEL, 0,
     "Summer Sale: 3 months free on annual plans",
     "{{first_name}}, your summer upgrade is on us",
     "Hi {{first_name}},\n\nGo annual before August and the first 3 months are free.\n\n"
     "Plan\tMonthly\tAnnual\nPro\t$29\t$290\nTeam\t$99\t$990\n\n"
     "See plans: https://acme.example/pricing" FOOTER,
     "Acme: go annual, get 3 months free. https://acme.example/s/sum Reply STOP to opt out",
     "Summer Sale", "3 months free when you go annual"},
    {"Black Friday Early Access", CH_EMAIL | CH_SMS | CH_PUSH, T_LABEL, 0,
     "Early access: Black Friday starts now for you",
     "{{first_name}}, you're on the early access list",
     "Hi {{first_name}},\n\nYou get in 24 hours before everyone else: 40% off your first year.\n\n"
     "Claim it: https://acme.example/bf \\o/" FOOTER,
     "Acme Black Friday early access: 40% off year one. https://acme.example/s/bf Reply STOP to opt out",
     "Black Friday", "Early access: 40% off starts now"},
    {"Holiday Gift Guide", CH_EMAIL, T_LABEL, 0,
     "Our holiday gift guide (and a gift for you)",
     "{{first_name}}, 12 gift ideas for your team",
     "Hi {{first_name}},\n\nTwelve ideas for the people who keep your campaigns running, "
     "and a 15% code for you: HOLIDAY15.\n\nRead the guide: https://acme.example/gifts" FOOTER,
     NULL, NULL, NULL},
    {"Onboarding drip #{n}", CH_EMAIL, T_SERIES, 1,
     "Getting started, step {n}: import your contacts",
     "{{first_name}}, step {n} takes two minutes",
     "Hi {{first_name}},\n\nStep {n} of getting started: bring your contacts in from a CSV file "
     "or your CRM.\n\nStart here: https://acme.example/start/{n}" FOOTER,
     NULL, NULL, NULL},
    {"Weekly digest #{n}", CH_EMAIL, T_SERIES, 2,
     "Your weekly digest: what's new at Acme",
     "{{first_name}}, 5 things you missed this week",
     "Hi {{first_name}},\n\nThis week: faster segment refreshes, a new template gallery and "
     "three customer stories.\n\nRead more: https://acme.example/blog" FOOTER,
     NULL, NULL, NULL},
    {"Product update: smart segments", CH_EMAIL | CH_PUSH, 0, 2,
     "New: segments that update themselves",
     "{{first_name}}, meet smart segments",
     "Hi {{first_name}},\n\nSegments now refresh on their own whenever a contact changes.\n\n"
     "Try it: https://acme.example/segments" FOOTER,
     NULL, "New: smart segments", "Segments now refresh on their own"},
    {"Webinar invite: scaling your email program", CH_EMAIL, T_LABEL, 1,
     "Live on Thursday: scaling your email program",
     "{{first_name}}, save your seat for Thursday",
     "Hi {{first_name}},\n\nJoin us live on Thursday at 17:00 UTC for 45 minutes on deliverability, "
     "rate limits and A/B testing.\n\nRegister: https://acme.example/webinar" FOOTER,
     NULL, NULL, NULL},
    {"Win-back: we miss you", CH_EMAIL | CH_SMS | CH_PUSH, T_LABEL, 4,
     "It's been a while, {{first_name}}",
     "Come back for 50% off your next month",
     "Hi {{first_name}},\n\nWe haven't seen you in a while. Here is 50% off your next month, "
     "no strings attached.\n\nCome back: https://acme.example/welcome-back" FOOTER,
     "Acme misses you: 50% off your next month. https://acme.example/s/wb Reply STOP to opt out",
     "We miss you", "50% off your next month"},
    {"Trial ending reminder", CH_EMAIL | CH_PUSH, 0, 3,
     "Your trial ends in 3 days",
     "{{first_name}}, keep your campaigns running",
     "Hi {{first_name}},\n\nYour Pro trial ends in 3 days. Add a card to keep your segments, "
     "templates and history.\n\nChoose a plan: https://acme.example/billing" FOOTER,
     NULL, "Trial ends in 3 days", "Keep your campaigns running"},
    {"Price change notice", CH_EMAIL, 0, 3,
     "Changes to Acme pricing from next quarter",
     "{{first_name}}, an update on your plan's price",
     "Hi {{first_name}},\n\nFrom next quarter, Team moves to $109 a month. Annual plans keep "
     "today's price until renewal.\n\nDetails: https://acme.example/pricing-2" FOOTER,
     NULL, NULL, NULL},
    {"Customer survey (NPS)", CH_EMAIL | CH_SMS, T_LABEL, 1,
     "One question, 10 seconds",
     "{{first_name}}, how likely are you to recommend Acme?",
     "Hi {{first_name}},\n\nHow likely are you to recommend Acme to a colleague? "
     "Pick a number from 0 to 10:\nhttps://acme.example/nps" FOOTER,
     "Acme: how likely are you to recommend us (0-10)? https://acme.example/s/nps", NULL, NULL},
    {"Renewal reminder", CH_EMAIL | CH_SMS, 0, 3,
     "Your annual plan renews next week",
     "{{first_name}}, your renewal is coming up",
     "Hi {{first_name}},\n\nYour annual plan renews on the 1st. Nothing to do if your card is "
     "up to date.\n\nReview billing: https://acme.example/billing" FOOTER,
     "Acme: your annual plan renews on the 1st. Review: https://acme.example/s/bill", NULL, NULL},
    {"Flash sale", CH_EMAIL | CH_SMS | CH_PUSH, T_LABEL, 0,
     "24 hours only: 30% off upgrades",
     "{{first_name}}, this ends at midnight",
     "Hi {{first_name}},\n\nFor the next 24 hours every upgrade is 30% off.\n\n"
     "Upgrade: https://acme.example/flash" FOOTER,
     "Acme flash sale: 30% off upgrades for 24 h. https://acme.example/s/fl Reply STOP to opt out",
     "Flash sale", "30% off upgrades, 24 hours only"},
    {"App update available", CH_PUSH, 0, 2, "Version 4.2 is here", NULL, NULL, NULL,
     "Acme 4.2 is here", "Dark mode, offline drafts and faster sync"},
    {"Referral program: give a month, get a month", CH_EMAIL | CH_PUSH, T_LABEL, 1,
     "Give a month, get a month",
     "{{first_name}}, share Acme and both of you save",
     "Hi {{first_name}},\n\nInvite a colleague: when they subscribe, you both get a month free.\n\n"
     "Your link: https://acme.example/refer" FOOTER,
     NULL, "Give a month, get a month", "Invite a colleague, both save"},
};
const size_t ntemplates = N(templates);

const struct operator_def operators[] = {
    {"maria.lopez", "maria", "10.8.0.21", OP_MARKETER},
    {"jonas.becker", "jonas", "10.8.0.34", OP_MARKETER},
    {"priya.raman", "priya", "10.8.0.47", OP_MARKETER},
    {"chloe.martin", "chloe", "10.8.0.52", OP_MARKETER},
    {"kenji.sato", "kenji", "10.8.0.66", OP_MARKETER},
    {"sam.okafor", "sokafor", "10.8.1.12", OP_ONCALL},
    {"dana.kim", "dkim", "10.8.1.19", OP_ONCALL},
    {"alex.novak", "anovak", "10.8.1.23", OP_ONCALL},
};
const size_t noperators = N(operators);
const char *const backend_db_user = "marketing_worker";
const char *const backend_application = "campaign-worker";
const char *const console_application = "marketing";

const char *const pause_notes[] = {
    "complaint rate spiking at one mailbox provider",
    "runbook Campaign Not Sending: pausing while the queue drains",
    "pausing for a copy fix",
    "bounce rate above 3%, checking the list",
    "Database Performance Degradation alert firing",
    "legal asked to hold until they review the offer",
    "pause over the weekend",
    "wrong landing page in the link",
};
const size_t npause_notes = N(pause_notes);

const char *const resume_notes[] = {
    "fix deployed, resuming",
    "queue drained, alert resolved",
    "legal approved",
    "bounce rate back to normal",
    "resuming after review",
    "landing page fixed",
};
const size_t nresume_notes = N(resume_notes);

const char *const cancel_notes[] = {
    "wrong segment",
    "duplicate of another campaign",
    "offer withdrawn",
    "legal hold",
    "replaced by a new version",
    "low engagement, stopping early",
};
const size_t ncancel_notes = N(cancel_notes);

const char *const rollback_reasons[] = {
    "open rate dropped after the change",
    "broken link in the new body",
    "wrong price in the new copy",
    "legal asked to revert",
    "the new subject line tripped spam filters",
};
const size_t nrollback_reasons = N(rollback_reasons);

const char *const fail_errors[3][4] = {
    {"421 4.7.0 Try again later, closing connection", "SMTP timeout after 30 s",
     "450 4.2.1 The user you are trying to contact is receiving mail too quickly",
     "provider returned 503 Service Unavailable"},
    {"carrier rejected the message (30007 filtered)", "SMS gateway timeout after 10 s",
     "provider returned 429 Too Many Requests", "invalid sender id for destination"},
    {"APNs: 503 ServiceUnavailable", "FCM: timeout after 10 s", "FCM: QuotaExceeded",
     "APNs: 429 TooManyRequests"},
};

const char *const bounce_errors[3][3] = {
    {"550 5.1.1 The email account that you tried to reach does not exist",
     "552 5.2.2 Mailbox full", "550 5.7.1 Message rejected as spam"},
    {"30003 unreachable destination handset", "30005 unknown destination handset",
     "30006 landline or unreachable carrier"},
    {"APNs: BadDeviceToken", "FCM: NotRegistered", "APNs: Unregistered"},
};

/* the lowercase ASCII spelling of a UTF-8 name: "Müller" -> "mueller",
 * "O'Brien" -> "obrien", "de Jong" -> "dejong" */
static void slugify(const char *s, char *out, size_t outlen)
{
    static const struct { const char *from, *to; } map[] = {
        {"ä", "ae"}, {"ö", "oe"}, {"ü", "ue"}, {"Ä", "ae"}, {"Ö", "oe"}, {"Ü", "ue"}, {"ß", "ss"},
        {"é", "e"}, {"è", "e"}, {"ê", "e"}, {"ë", "e"}, {"É", "e"}, {"á", "a"}, {"à", "a"},
        {"â", "a"}, {"ã", "a"}, {"å", "a"}, {"Å", "a"}, {"í", "i"}, {"ï", "i"}, {"î", "i"},
        {"ó", "o"}, {"ô", "o"}, {"õ", "o"}, {"ò", "o"}, {"ú", "u"}, {"ù", "u"}, {"ç", "c"},
        {"ñ", "n"}, {"ś", "s"}, {"ź", "z"}, {"ż", "z"}, {"ł", "l"}, {"Ł", "l"}, {"ń", "n"},
        {"ć", "c"}, {"ą", "a"}, {"ę", "e"},
    };
    size_t o = 0;
    while (*s && o + 3 < outlen) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x80) {
            if (isalnum(c))
                out[o++] = (char)tolower(c);
            s++;
            continue;
        }
        size_t i;
        for (i = 0; i < N(map); i++) {
            size_t l = strlen(map[i].from);
            if (strncmp(s, map[i].from, l) == 0) {
                for (const char *t = map[i].to; *t; t++)
                    out[o++] = *t;
                s += l;
                break;
            }
        }
        if (i == N(map)) /* unmapped: skip the whole UTF-8 sequence */
            for (s++; ((unsigned char)*s & 0xC0) == 0x80; s++)
                ;
    }
    out[o] = '\0';
}

static void build(const char *const src[R_NREGIONS][32], struct person_name **names,
                  size_t *offsets)
{
    size_t total = 0;
    for (int r = 0; r < R_NREGIONS; r++)
        for (size_t i = 0; src[r][i]; i++)
            total++;
    *names = xcalloc(total, sizeof **names);
    size_t k = 0;
    for (int r = 0; r < R_NREGIONS; r++) {
        offsets[r] = k;
        for (size_t i = 0; src[r][i]; i++, k++) {
            (*names)[k].display = src[r][i];
            slugify(src[r][i], (*names)[k].slug, sizeof (*names)[k].slug);
        }
    }
    offsets[R_NREGIONS] = k;
}

void lexicon_init(void)
{
    if (first_names)
        return;
    build(first_src, &first_names, region_first);
    build(last_src, &last_names, region_last);
}
