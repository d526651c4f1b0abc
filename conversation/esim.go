package conversation

import (
	"strconv"
	"strings"
	"time"
)

// The user's eSIMs: their status, top-ups, and reading ICCIDs.

const (
	StepESIMs       Step = "esims"        // the user's eSIMs
	StepICCID       Step = "iccid"        // asking for an ICCID
	StepLoadingESIM Step = "loading_esim" // waiting for ESIMLoaded
	StepESIM        Step = "esim"         // one eSIM's status
)

const (
	doESIMs    ActionKind = "esims"
	doESIM     ActionKind = "esim"
	doTopUp    ActionKind = "topup"
	doICCIDAsk ActionKind = "iccid_ask"
)

// ICCIDProblem says why typed text is not an ICCID.
type ICCIDProblem string

const (
	ICCIDOK        ICCIDProblem = ""
	ICCIDNotDigits ICCIDProblem = "not_digits"
	ICCIDLength    ICCIDProblem = "length"
	ICCIDChecksum  ICCIDProblem = "checksum"
)

// NormalizeICCID reads an ICCID typed with or without spaces: 18 to 22
// digits whose last is the Luhn check digit, as printed on SIM cards.
func NormalizeICCID(in string) (string, ICCIDProblem) {
	s := strings.TrimSpace(in)
	if len(s) > 40 {
		return "", ICCIDLength
	}
	d := make([]byte, 0, 22)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			d = append(d, c)
		case c == ' ' || c == '-':
		default:
			return "", ICCIDNotDigits
		}
	}
	if len(d) < 18 || len(d) > 22 {
		return "", ICCIDLength
	}
	if !luhn(d) {
		return "", ICCIDChecksum
	}
	return string(d), ICCIDOK
}

func luhn(d []byte) bool {
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if (len(d)-1-i)%2 == 1 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

// shortICCID shows the end of an ICCID, which is what tells eSIMs apart.
func shortICCID(id string) string {
	if len(id) > 6 {
		return "…" + id[len(id)-6:]
	}
	return id
}

func (t *turn) owned(iccid string) *OwnedESIM {
	for i := range t.s.ESIMs {
		if t.s.ESIMs[i].ICCID == iccid {
			return &t.s.ESIMs[i]
		}
	}
	return nil
}

// esims lists the user's eSIMs with a way to check or top up any of them.
func (t *turn) esims() {
	t.clearFlow()
	t.s.Step = StepESIMs
	lang := t.s.Lang
	var o options
	var spans []Span
	if len(t.s.ESIMs) == 0 {
		spans = text(lang, "esims.none")
		o.add(lookup(lang, "opt.buy_esim"), doKind, KindESIM)
	} else {
		spans = text(lang, "esims.title")
		for i, e := range t.s.ESIMs {
			if i == maxPackageOpts {
				break
			}
			spans = appendText(spans, lang, "esims.line", strconv.Itoa(i+1), e.Name, e.ICCID)
			o.add("📶 "+truncate(e.Name, 36)+" "+shortICCID(e.ICCID), doESIM, e.ICCID)
		}
		spans = appendText(spans, lang, "esims.hint")
	}
	o.add(lookup(lang, "opt.iccid.status"), doICCIDAsk, "status")
	o.add(lookup(lang, "opt.iccid.topup"), doICCIDAsk, "topup")
	t.opt(&o, "opt.back", doBack)
	t.menu(spans, ExpectICCID, o.acts, o.labels)
}

func (t *turn) esimsCommand(args string) {
	if args == "" {
		t.esims()
		return
	}
	t.esimCommand(args)
}

// typedESIMs opens an eSIM by its ICCID or its number in the list.
func (t *turn) typedESIMs(in string) {
	if id, prob := NormalizeICCID(in); prob == ICCIDOK {
		t.loadESIM(id, ForStatus)
		return
	}
	if n, ok := listNumber(in, len(t.s.ESIMs)); ok {
		t.loadESIM(t.s.ESIMs[n-1].ICCID, ForStatus)
		return
	}
	t.search(in)
}

func (t *turn) askICCID(mode ICCIDPurpose) {
	if mode != ForTopUp {
		mode = ForStatus
	}
	t.s.Step, t.s.ICCIDFor = StepICCID, mode
	var o options
	t.opt(&o, "opt.back", doBack)
	t.menu(t.tx(Msg("iccid.ask."+string(mode))), ExpectICCID, o.acts, o.labels)
}

func (t *turn) iccidProblem(in string, prob ICCIDProblem) []Span {
	switch prob {
	case ICCIDNotDigits:
		return t.tx("iccid.digits", truncate(in, 40))
	case ICCIDLength:
		return t.tx("iccid.length")
	}
	return t.tx("iccid.checksum")
}

func (t *turn) typedICCID(in string) {
	id, prob := NormalizeICCID(in)
	if prob != ICCIDOK {
		if prob == ICCIDNotDigits && looksLikeWords(in) {
			t.offerSearch(in, t.iccidProblem(in, prob))
			return
		}
		mode := t.s.ICCIDFor
		t.say(t.iccidProblem(in, prob))
		t.askICCID(mode)
		return
	}
	t.loadESIM(id, t.s.ICCIDFor)
}

// loadESIM fetches an eSIM's state; mode says what follows: its status, or
// (having checked it exists) a top-up.
func (t *turn) loadESIM(iccid string, mode ICCIDPurpose) {
	t.clearFlow()
	t.s.Step, t.s.ESIMTarget, t.s.ICCIDFor = StepLoadingESIM, iccid, mode
	t.s.Actions = nil
	t.say(t.tx("esim.loading", shortICCID(iccid)))
	t.out = append(t.out, LoadESIM{ICCID: iccid})
}

func (t *turn) esimLoaded(e ESIM) {
	if t.s.Step != StepLoadingESIM || e.ICCID != t.s.ESIMTarget {
		return
	}
	switch {
	case t.s.Want != "":
		want := t.s.Want
		id, _, _ := strings.Cut(want, "<&>")
		t.s.Step, t.s.TopUp = StepLoading, true
		t.s.Loading = id
		t.out = append(t.out, LoadProduct{ID: id})
	case t.s.ICCIDFor == ForTopUp:
		t.topUp(e.ICCID)
	default:
		t.esimStatus(e)
	}
}

func (t *turn) esimFailed(ev Failed, reason string) {
	if t.s.Step != StepLoadingESIM || ev.For != "" && ev.For != t.s.ESIMTarget {
		return
	}
	if ev.Kind == ErrNotFound {
		t.say(t.tx("esim.notfound", t.s.ESIMTarget))
	} else {
		t.say(t.tx("err.esim", reason))
	}
	t.esims()
}

// esimStatus shows each bundle: data left, validity, state.
func (t *turn) esimStatus(e ESIM) {
	lang := t.s.Lang
	t.s.Step, t.s.ICCIDFor = StepESIM, ""
	name := shortICCID(e.ICCID)
	if o := t.owned(e.ICCID); o != nil {
		name = o.Name
	}
	spans := text(lang, "esim.title", name, e.ICCID)
	if e.Installed {
		spans = appendText(spans, lang, "esim.installed")
	} else {
		spans = appendText(spans, lang, "esim.not_installed")
	}
	if len(e.Bundles) == 0 {
		spans = appendText(spans, lang, "esim.no_bundles")
	}
	for _, b := range e.Bundles {
		state := bundleState(b, t.now)
		spans = appendText(spans, lang, "esim.bundle", b.Name, lookup(lang, Msg("bundle."+state)))
		if state == "active" {
			spans = appendText(spans, lang, "esim.left", dataText(b.RemainingBytes), dataText(b.DataMB*1_000_000))
		}
		if !b.Expires.IsZero() {
			day := b.Expires.UTC().Format("2006-01-02")
			if left := b.Expires.Sub(t.now); left > 0 {
				spans = appendText(spans, lang, "esim.until", day, strconv.Itoa(int((left+24*time.Hour-1)/(24*time.Hour))))
			} else {
				spans = appendText(spans, lang, "esim.ended", day)
			}
		}
	}
	var o options
	o.add(lookup(lang, "opt.topup"), doTopUp, e.ICCID)
	o.add(lookup(lang, "opt.refresh"), doESIM, e.ICCID)
	t.opt(&o, "opt.back", doBack)
	t.menu(spans, ExpectNothing, o.acts, o.labels)
}

// bundleState names a bundle's state the way users think of it.
func bundleState(b Bundle, now time.Time) string {
	switch s := strings.ToLower(b.Status); {
	case s == "expired" || !b.Expires.IsZero() && !now.Before(b.Expires):
		return "expired"
	case s == "depleted" || s == "active" && b.DataMB > 0 && b.RemainingBytes <= 0:
		return "depleted"
	case s == "active":
		return "active"
	case s == "purchased" || s == "":
		return "purchased"
	}
	return "other"
}

// dataText shows bytes as MB or GB (decimal units, as plans are sold), with
// one decimal and no floating point.
func dataText(bytes int64) string {
	if bytes < 0 {
		bytes = 0
	}
	if bytes >= 1_000_000_000 {
		tenths := bytes / 100_000_000
		s := strconv.FormatInt(tenths/10, 10)
		if r := tenths % 10; r != 0 {
			s += "." + strconv.FormatInt(r, 10)
		}
		return s + " GB"
	}
	return strconv.FormatInt(bytes/1_000_000, 10) + " MB"
}

// topUp offers plans for an eSIM: its own plan's packages when the bot sold
// it, else the eSIM plans for the user's country.
func (t *turn) topUp(iccid string) {
	if o := t.owned(iccid); o != nil && o.Product != "" {
		t.clearFlow()
		t.s.ESIMTarget, t.s.TopUp = iccid, true
		t.say(t.tx("loading", o.Name))
		t.load(o.Product)
		return
	}
	t.clearFlow()
	t.s.ESIMTarget, t.s.TopUp = iccid, true
	t.say(t.tx("esim.pick_plan", iccid))
	t.browse(KindESIM, "", t.s.Country, true)
}

// esimCommand is "esim <iccid>": the status of one eSIM.
func (t *turn) esimCommand(args string) {
	id, prob := NormalizeICCID(args)
	if prob != ICCIDOK {
		t.clearFlow()
		t.s.Step, t.s.ICCIDFor = StepICCID, ForStatus
		t.say(t.iccidProblem(args, prob))
		t.askICCID(ForStatus)
		return
	}
	t.loadESIM(id, ForStatus)
}

// topupCommand is "topup <iccid> [package id]".
func (t *turn) topupCommand(args string) {
	f := strings.Fields(args)
	if len(f) == 0 {
		t.clearFlow()
		if len(t.s.ESIMs) > 0 {
			t.esims()
			return
		}
		t.askICCID(ForTopUp)
		return
	}
	id, prob := NormalizeICCID(f[0])
	if prob != ICCIDOK {
		t.clearFlow()
		t.say(t.iccidProblem(f[0], prob))
		t.askICCID(ForTopUp)
		return
	}
	want := strings.Join(f[1:], " ")
	if want != "" {
		pid, _, ok := strings.Cut(want, "<&>")
		if !ok || !validProductID(pid) {
			t.clearFlow()
			t.s.Actions = nil
			t.say(t.tx("topup.usage"))
			return
		}
	}
	t.loadESIM(id, ForTopUp)
	t.s.Want = want
}
