package console

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"refillbot/bot"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skip2/go-qrcode"

	"refillbot/conversation"
)

const deadline = 5 * time.Second

var (
	threeOptions = conversation.Reply{
		Text:    []conversation.Span{{Text: "Pick one:"}},
		Options: []conversation.Option{{Label: "Amazon US", Token: "t1"}, {Label: "Amazon DE", Token: "t2"}, {Label: "Steam", Token: "t3"}},
	}
	amounts = conversation.Reply{
		Text:    []conversation.Span{{Text: "How much?"}},
		Options: []conversation.Option{{Label: "25 USD", Token: "a25"}, {Label: "50 USD", Token: "a50"}},
		Expect:  conversation.ExpectAmount,
	}
	typeAmount = conversation.Reply{
		Text:   []conversation.Span{{Text: "Type an amount"}},
		Expect: conversation.ExpectAmount,
	}
)

// script answers events with canned replies; the handle records every event.
type script func(n int, ev conversation.Event) *conversation.Reply

func onStart(r conversation.Reply) script {
	return func(n int, ev conversation.Event) *conversation.Reply {
		if n == 0 {
			return &r
		}
		return nil
	}
}

// replies sends the i-th reply after the i-th event.
func replies(rs ...conversation.Reply) script {
	return func(n int, ev conversation.Event) *conversation.Reply {
		if n < len(rs) {
			return &rs[n]
		}
		return nil
	}
}

type recorder struct {
	t      *testing.T
	a      *Adapter
	script script
	mu     sync.Mutex
	in     []bot.Incoming
	seen   chan conversation.Event // every event, if not nil (buffered)
}

func (r *recorder) handle(ctx context.Context, in bot.Incoming) {
	r.mu.Lock()
	n := len(r.in)
	r.in = append(r.in, in)
	r.mu.Unlock()
	if r.script != nil {
		if rep := r.script(n, in.Event); rep != nil {
			if _, err := r.a.Send(ctx, in.Address, *rep, nil); err != nil {
				r.t.Errorf("Send: %v", err)
			}
		}
	}
	if r.seen != nil {
		r.seen <- in.Event
	}
}

func (r *recorder) events() []conversation.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := make([]conversation.Event, len(r.in))
	for i, in := range r.in {
		evs[i] = in.Event
	}
	return evs
}

func TestRunInputMapping(t *testing.T) {
	start := conversation.Start{}
	long := strings.Repeat("x", 5000)
	tests := []struct {
		name   string
		script script
		input  string
		want   []conversation.Event
	}{
		{"numbered option", onStart(threeOptions), "2\n",
			[]conversation.Event{start, conversation.Chose{Token: "t2"}}},
		{"numbered option with CRLF and spaces", onStart(threeOptions), "  3 \r\n",
			[]conversation.Event{start, conversation.Chose{Token: "t3"}}},
		{"number out of range is text", onStart(threeOptions), "99\n0\n",
			[]conversation.Event{start, conversation.Text{Text: "99"}, conversation.Text{Text: "0"}}},
		{"signed number is text", onStart(threeOptions), "+1\n",
			[]conversation.Event{start, conversation.Text{Text: "+1"}}},
		{"letter in a numbered menu is text", onStart(threeOptions), "b\n",
			[]conversation.Event{start, conversation.Text{Text: "b"}}},
		{"number without any menu is text", nil, "1\n",
			[]conversation.Event{start, conversation.Text{Text: "1"}}},
		{"lettered menu: letter chooses, number is an amount", onStart(amounts), "b\n25\nA\n",
			[]conversation.Event{start, conversation.Chose{Token: "a50"}, conversation.Text{Text: "25"},
				conversation.Chose{Token: "a25"}}},
		{"letter out of range is text", onStart(amounts), "c\n",
			[]conversation.Event{start, conversation.Text{Text: "c"}}},
		{"amount prompt without options forgets the numbered menu", replies(threeOptions, typeAmount), "x\n1\n",
			[]conversation.Event{start, conversation.Text{Text: "x"}, conversation.Text{Text: "1"}}},
		{"a reply without options keeps the menu", replies(threeOptions,
			conversation.Reply{Text: []conversation.Span{{Text: "Hm?"}}}), "what\n1\n",
			[]conversation.Event{start, conversation.Text{Text: "what"}, conversation.Chose{Token: "t1"}}},
		{"later menu replaces earlier", replies(amounts, threeOptions), "b\n1\n",
			[]conversation.Event{start, conversation.Chose{Token: "a50"}, conversation.Chose{Token: "t1"}}},
		{"command", nil, "/search amazon\n",
			[]conversation.Event{start, conversation.Command{Name: "search", Args: "amazon"}}},
		{"command args trimmed, name lower-cased", nil, "/Search   gift  cards \n/help\n",
			[]conversation.Event{start, conversation.Command{Name: "search", Args: "gift  cards"},
				conversation.Command{Name: "help"}}},
		{"start with payload", nil, "/start amazon-us\n",
			[]conversation.Event{start, conversation.Start{Payload: "amazon-us"}}},
		{"command wins over menu", onStart(threeOptions), "/start\n",
			[]conversation.Event{start, start}},
		{"lone slash is text", nil, "/\n/ x\n",
			[]conversation.Event{start, conversation.Text{Text: "/"}, conversation.Text{Text: "/ x"}}},
		{"empty lines ignored", nil, "\n   \n\t\nhello\n\n",
			[]conversation.Event{start, conversation.Text{Text: "hello"}}},
		{"last line without newline", nil, "hi there",
			[]conversation.Event{start, conversation.Text{Text: "hi there"}}},
		{"no input at all", nil, "",
			[]conversation.Event{start}},
		{"markup is not interpreted", nil, "*bold* <b>x</b>\n",
			[]conversation.Event{start, conversation.Text{Text: "*bold* <b>x</b>"}}},
		{"invalid UTF-8 replaced", nil, "caf\xff\xfe!\n",
			[]conversation.Event{start, conversation.Text{Text: "caf\uFFFD!"}}},
		{"long line truncated, next line intact", nil, long + "\nnext\n",
			[]conversation.Event{start, conversation.Text{Text: long[:maxLine]}, conversation.Text{Text: "next"}}},
		{"truncation keeps whole runes", nil, "x" + strings.Repeat("é", 3000) + "\n",
			[]conversation.Event{start, conversation.Text{Text: "x" + strings.Repeat("é", (maxLine-1)/2)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			a := New(Options{In: strings.NewReader(tt.input), Out: &out})
			rec := &recorder{t: t, a: a, script: tt.script}
			if err := a.Run(context.Background(), rec.handle); err != nil {
				t.Fatalf("Run = %v, want nil at EOF", err)
			}
			if got := rec.events(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events:\n got %#v\nwant %#v", got, tt.want)
			}
			for _, in := range rec.in {
				if in.Key != (conversation.SessionKey{Platform: "console", User: "local"}) {
					t.Errorf("key = %+v", in.Key)
				}
				if in.Address != (conversation.Address{Platform: "console", Chat: "local", Private: true}) {
					t.Errorf("address = %+v", in.Address)
				}
			}
		})
	}
}

func TestRunTranscript(t *testing.T) {
	var out bytes.Buffer
	a := New(Options{In: strings.NewReader("2\nb\n\n"), Out: &out, User: "alice"})
	rec := &recorder{t: t, a: a, script: replies(threeOptions, amounts,
		conversation.Reply{Text: []conversation.Span{{Text: "Total: "}, {Text: "50 USD", Style: conversation.Bold}}})}
	if err := a.Run(context.Background(), rec.handle); err != nil {
		t.Fatal(err)
	}
	want := "Pick one:\n" +
		"  1) Amazon US\n" +
		"  2) Amazon DE\n" +
		"  3) Steam\n" +
		"> How much?\n" +
		"  a) 25 USD\n" +
		"  b) 50 USD\n" +
		"> Total: 50 USD\n" +
		"> > "
	if got := out.String(); got != want {
		t.Errorf("transcript:\n got %q\nwant %q", got, want)
	}
	if k := rec.in[1].Key; k.User != "alice" {
		t.Errorf("key = %+v", k)
	}
}

// chanWriter reports every write on a channel so tests can wait for the prompt.
type chanWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan string
}

func (w *chanWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	w.mu.Unlock()
	select {
	case w.ch <- string(p):
	default:
	}
	return len(p), nil
}

func (w *chanWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func waitEvent(t *testing.T, ch <-chan conversation.Event) conversation.Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(deadline):
		t.Fatal("timed out waiting for an event")
		return nil
	}
}

func waitErr(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(deadline):
		t.Fatal("timed out waiting for Run to return")
		return nil
	}
}

func waitWrite(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	timeout := time.After(deadline)
	for {
		select {
		case s := <-ch:
			if s == want {
				return
			}
		case <-timeout:
			t.Fatalf("timed out waiting for output %q", want)
		}
	}
}

func TestRunPipe(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	a := New(Options{In: pr, Out: io.Discard})
	rec := &recorder{t: t, a: a, script: onStart(threeOptions), seen: make(chan conversation.Event, 10)}
	errc := make(chan error, 1)
	go func() { errc <- a.Run(context.Background(), rec.handle) }()

	if ev := waitEvent(t, rec.seen); ev != (conversation.Start{}) {
		t.Fatalf("first event = %#v", ev)
	}
	if _, err := io.WriteString(pw, "2\n"); err != nil {
		t.Fatal(err)
	}
	if ev := waitEvent(t, rec.seen); ev != (conversation.Chose{Token: "t2"}) {
		t.Fatalf("event = %#v", ev)
	}
	if _, err := io.WriteString(pw, "\n\n/search steam\n"); err != nil {
		t.Fatal(err)
	}
	if ev := waitEvent(t, rec.seen); ev != (conversation.Command{Name: "search", Args: "steam"}) {
		t.Fatalf("event = %#v", ev)
	}
	pw.Close()
	if err := waitErr(t, errc); err != nil {
		t.Fatalf("Run after EOF = %v, want nil", err)
	}
}

func TestRunCancel(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close() // lets the reading goroutine finish
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &chanWriter{ch: make(chan string, 10)}
	a := New(Options{In: pr, Out: out})
	rec := &recorder{t: t, a: a, seen: make(chan conversation.Event, 10)}
	errc := make(chan error, 1)
	go func() { errc <- a.Run(ctx, rec.handle) }()

	waitEvent(t, rec.seen)
	waitWrite(t, out.ch, "> ") // Run is now blocked waiting for a line
	cancel()
	if err := waitErr(t, errc); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v, want context.Canceled", err)
	}
}

func TestRunCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a := New(Options{In: strings.NewReader("hello\n"), Out: io.Discard})
	rec := &recorder{t: t, a: a}
	if err := a.Run(ctx, rec.handle); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if len(rec.events()) != 0 {
		t.Errorf("events = %v, want none", rec.events())
	}
}

func TestRunCancelledByHandle(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := New(Options{In: strings.NewReader("quit\nnever\n"), Out: io.Discard})
	var got []conversation.Event
	err := a.Run(ctx, func(_ context.Context, in bot.Incoming) {
		got = append(got, in.Event)
		if in.Event == (conversation.Text{Text: "quit"}) {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if len(got) != 2 {
		t.Errorf("events = %v, want Start and quit only", got)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestRunReadError(t *testing.T) {
	a := New(Options{In: errReader{}, Out: io.Discard})
	err := a.Run(context.Background(), func(context.Context, bot.Incoming) {})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Run = %v, want the read error", err)
	}
}

func TestNotificationWhilePrompting(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	out := &chanWriter{ch: make(chan string, 10)}
	a := New(Options{In: pr, Out: out})
	rec := &recorder{t: t, a: a, seen: make(chan conversation.Event, 10)}
	errc := make(chan error, 1)
	go func() { errc <- a.Run(context.Background(), rec.handle) }()
	waitEvent(t, rec.seen)
	waitWrite(t, out.ch, "> ")

	addr := conversation.Address{Platform: Platform, Chat: "local", Private: true}
	if _, err := a.Send(context.Background(), addr, conversation.Reply{Text: []conversation.Span{{Text: "Paid!"}}}, nil); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if err := waitErr(t, errc); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "> \nPaid!\n> "; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

func TestSendSpans(t *testing.T) {
	spans := []conversation.Span{
		{Text: "Code: "},
		{Text: "ABCD-1234", Style: conversation.Code},
		{Text: " for "},
		{Text: "Amazon", Style: conversation.Bold},
		{Text: " ("},
		{Text: "sandbox", Style: conversation.Italic},
		{Text: ") *not markdown* <b>nor html</b>"},
	}
	tests := []struct {
		color bool
		want  string
	}{
		{false, "Code: ABCD-1234 for Amazon (sandbox) *not markdown* <b>nor html</b>\n"},
		{true, "Code: \x1b[36mABCD-1234\x1b[0m for \x1b[1mAmazon\x1b[0m (\x1b[3msandbox\x1b[0m) *not markdown* <b>nor html</b>\n"},
	}
	for _, tt := range tests {
		t.Run("color="+strconv.FormatBool(tt.color), func(t *testing.T) {
			var out bytes.Buffer
			a := New(Options{Out: &out, Color: tt.color})
			if _, err := a.Send(context.Background(), conversation.Address{Platform: Platform}, conversation.Reply{Text: spans, Secret: true}, nil); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSendColorResetsAtNewlines(t *testing.T) {
	var out bytes.Buffer
	a := New(Options{Out: &out, Color: true})
	r := conversation.Reply{Text: []conversation.Span{{Text: "one\ntwo\n", Style: conversation.Bold}}}
	if _, err := a.Send(context.Background(), conversation.Address{}, r, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "\x1b[1mone\x1b[0m\n\x1b[1mtwo\x1b[0m\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSendNeutralisesControlCharacters(t *testing.T) {
	for _, color := range []bool{false, true} {
		var out bytes.Buffer
		a := New(Options{Out: &out, Color: color})
		r := conversation.Reply{
			Text: []conversation.Span{
				{Text: "name\x1b[2J\x1b]0;pwned\x07 \u202eevil\r\x9b\u009b\xff\n", Style: conversation.Bold},
				{Text: "tab\tkept"},
			},
			Options: []conversation.Option{{Label: "bad\nlabel\x1b[31m", Token: "x"}},
		}
		if _, err := a.Send(context.Background(), conversation.Address{}, r, nil); err != nil {
			t.Fatal(err)
		}
		got := out.String()
		if color {
			got = strings.NewReplacer(ansiBold, "", ansiReset, "").Replace(got)
		}
		for _, bad := range []string{"\x1b", "\x07", "\r", "\u202e", "\x9b", "\u009b"} {
			if strings.Contains(got, bad) {
				t.Errorf("color=%v: output contains %q: %q", color, bad, got)
			}
		}
		if !strings.Contains(got, "tab\tkept\n  1) bad label\uFFFD[31m\n") {
			t.Errorf("color=%v: output = %q", color, got)
		}
	}
}

func TestSendLetteredMenuLimit(t *testing.T) {
	var out bytes.Buffer
	a := New(Options{Out: &out})
	r := conversation.Reply{Expect: conversation.ExpectAmount}
	for i := range 28 {
		r.Options = append(r.Options, conversation.Option{Label: "v" + strconv.Itoa(i), Token: "t" + strconv.Itoa(i)})
	}
	if _, err := a.Send(context.Background(), conversation.Address{}, r, nil); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"  a) v0\n", "  z) v25\n", "     v26\n", "     v27\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if len(a.menu) != 26 || !a.lettered {
		t.Errorf("menu = %d options, lettered %v", len(a.menu), a.lettered)
	}
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.White)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func savedPath(t *testing.T, out string) string {
	t.Helper()
	const prefix = "🖼 "
	for _, line := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(line, prefix); ok {
			return p
		}
	}
	t.Fatalf("no %q line in output:\n%s", prefix, out)
	return ""
}

func TestSendPNG(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "qr")
	var out bytes.Buffer
	a := New(Options{Out: &out, ImageDir: dir})
	data := testPNG(t)
	r := conversation.Reply{Text: []conversation.Span{{Text: "Pay here"}}, QR: "bitcoin:bc1qexample?amount=0.001"}

	ref1, err := a.Send(context.Background(), conversation.Address{Platform: Platform}, r, data)
	if err != nil {
		t.Fatal(err)
	}
	path := savedPath(t, out.String())
	if filepath.Dir(path) != dir || filepath.Ext(path) != ".png" {
		t.Errorf("path = %q, want a .png in %q", path, dir)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode = %o, want 600", perm)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := di.Mode().Perm(); perm != 0o700 {
		t.Errorf("dir mode = %o, want 700", perm)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("saved file is not a PNG: %v", err)
	}

	q, err := qrcode.New(r.QR, qrcode.Low)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), q.ToSmallString(false)) {
		t.Errorf("terminal QR missing from output:\n%s", out.String())
	}
	if !strings.HasPrefix(out.String(), "Pay here\n🖼 ") {
		t.Errorf("output order: %q", out.String())
	}

	// A second image gets its own file.
	out.Reset()
	ref2, err := a.Send(context.Background(), conversation.Address{Platform: Platform}, conversation.Reply{}, data)
	if err != nil {
		t.Fatal(err)
	}
	if p2 := savedPath(t, out.String()); p2 == path {
		t.Errorf("second image overwrote the first: %s", p2)
	}
	if ref1 == ref2 {
		t.Errorf("refs not unique: %q %q", ref1, ref2)
	}
}

func TestSendQROnly(t *testing.T) {
	var out bytes.Buffer
	dir := filepath.Join(t.TempDir(), "never")
	a := New(Options{Out: &out, ImageDir: dir})
	r := conversation.Reply{Text: []conversation.Span{{Text: "Scan:"}}, QR: "lightning:lnbc1example"}
	if _, err := a.Send(context.Background(), conversation.Address{}, r, nil); err != nil {
		t.Fatal(err)
	}
	q, _ := qrcode.New(r.QR, qrcode.Low)
	if got, want := out.String(), "Scan:\n"+q.ToSmallString(false); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("image dir created without an image: %v", err)
	}
}

// A till scanner expecting CODE_128 cannot read a QR of the same value, so
// a 1-D barcode is shown only as the saved picture, never as a terminal QR.
func TestSendBarcodeNotDrawnAsQR(t *testing.T) {
	var out bytes.Buffer
	a := New(Options{Out: &out, ImageDir: t.TempDir()})
	r := conversation.Reply{Text: []conversation.Span{{Text: "Code: ABCD-1234"}}, QR: "ABCD-1234", Barcode: "CODE_128"}
	if _, err := a.Send(context.Background(), conversation.Address{}, r, []byte("\x89PNG")); err != nil {
		t.Fatal(err)
	}
	q, _ := qrcode.New(r.QR, qrcode.Low)
	if strings.Contains(out.String(), q.ToSmallString(false)) {
		t.Errorf("a CODE_128 barcode was drawn as a terminal QR:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "🖼 ") {
		t.Errorf("the barcode picture's path is not shown:\n%s", out.String())
	}
}

func TestSendQRTooLong(t *testing.T) {
	var out bytes.Buffer
	a := New(Options{Out: &out})
	r := conversation.Reply{Text: []conversation.Span{{Text: "x"}}, QR: strings.Repeat("z", 10000)}
	if _, err := a.Send(context.Background(), conversation.Address{}, r, nil); err != nil {
		t.Fatalf("Send = %v; an undrawable QR must not fail the message", err)
	}
	if !strings.Contains(out.String(), "QR code not shown") {
		t.Errorf("output = %q", out.String())
	}
}

func TestSendPNGSaveFailure(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	a := New(Options{Out: &out, ImageDir: filepath.Join(file, "sub")})
	r := conversation.Reply{Text: []conversation.Span{{Text: "Pay"}}}
	if _, err := a.Send(context.Background(), conversation.Address{}, r, testPNG(t)); err != nil {
		t.Fatalf("Send = %v; the text was shown", err)
	}
	if !strings.HasPrefix(out.String(), "Pay\n🖼 ✗ ") {
		t.Errorf("output = %q", out.String())
	}
}

func TestDefaultImageDirIsHardened(t *testing.T) {
	a := New(Options{})
	if want := filepath.Join(os.TempDir(), "refillbot-qr"); a.opts.ImageDir != want || !a.defaultDir {
		t.Errorf("ImageDir = %q (default %v), want %q", a.opts.ImageDir, a.defaultDir, want)
	}
	if a.opts.User != "local" {
		t.Errorf("User = %q", a.opts.User)
	}

	// Point the hardened default at a test directory rather than the real temp dir.
	base := t.TempDir()
	loose := filepath.Join(base, "loose")
	if err := os.Mkdir(loose, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o755); err != nil {
		t.Fatal(err)
	}
	a.opts.ImageDir = loose
	if _, err := a.savePNG(testPNG(t)); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(loose); fi.Mode().Perm() != 0o700 {
		t.Errorf("default dir mode = %o, want 700", fi.Mode().Perm())
	}

	link := filepath.Join(base, "link")
	if err := os.Symlink(loose, link); err != nil {
		t.Skip("no symlinks:", err)
	}
	a.opts.ImageDir = link
	if _, err := a.savePNG(testPNG(t)); err == nil {
		t.Error("saved through a symlinked default dir")
	}
}

func TestSendWrongPlatform(t *testing.T) {
	a := New(Options{Out: io.Discard})
	if _, err := a.Send(context.Background(), conversation.Address{Platform: "telegram", Chat: "1"}, conversation.Reply{}, nil); err == nil {
		t.Error("Send to another platform succeeded")
	}
}

func TestSendConcurrent(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	out := &chanWriter{ch: make(chan string)} // unbuffered: writes never block on it
	a := New(Options{In: pr, Out: out, ImageDir: t.TempDir()})
	rec := &recorder{t: t, a: a, script: func(n int, ev conversation.Event) *conversation.Reply { return &threeOptions }}
	errc := make(chan error, 1)
	go func() { errc <- a.Run(context.Background(), rec.handle) }()

	const workers, each = 8, 25
	data := testPNG(t)
	refs := make(chan string, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := conversation.Reply{
					Text:    []conversation.Span{{Text: "note " + strconv.Itoa(w) + "-" + strconv.Itoa(i)}},
					Options: []conversation.Option{{Label: "ok", Token: "ok"}},
				}
				var img []byte
				if i%10 == 0 {
					img = data
				}
				ref, err := a.Send(context.Background(), conversation.Address{Platform: Platform, Chat: "local"}, r, img)
				if err != nil {
					t.Error(err)
					return
				}
				refs <- ref
			}
		}()
	}
	for i := range 20 {
		if _, err := io.WriteString(pw, strconv.Itoa(i%3+1)+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	pw.Close()
	if err := waitErr(t, errc); err != nil {
		t.Fatal(err)
	}
	close(refs)
	seen := map[string]bool{}
	for r := range refs {
		if seen[r] {
			t.Errorf("duplicate ref %q", r)
		}
		seen[r] = true
	}
	if len(seen) != workers*each {
		t.Errorf("%d refs, want %d", len(seen), workers*each)
	}
	got := out.String()
	for w := range workers {
		for i := range each {
			if !strings.Contains(got, "note "+strconv.Itoa(w)+"-"+strconv.Itoa(i)+"\n  1) ok\n") {
				t.Fatalf("message %d-%d missing or interleaved", w, i)
			}
		}
	}
}
