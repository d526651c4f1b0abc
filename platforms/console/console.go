package console

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"refillbot/bot"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/skip2/go-qrcode"

	"refillbot/conversation"
)

// Platform is the platform name used in session keys and addresses.
const Platform = "console"

// maxLine is the longest input line passed on, in bytes; the rest is dropped.
const maxLine = 4096

// maxLetters is how many options a lettered (amount) menu can offer: a..z.
const maxLetters = 26

// Options configures an Adapter. The zero value reads nothing and writes nothing
// useful: set In and Out.
type Options struct {
	In  io.Reader // stdin
	Out io.Writer // stdout
	// ImageDir is where QR PNGs are saved; default os.TempDir()/refillbot-qr.
	ImageDir string
	// User is the local user's id; default "local".
	User string
	// Color enables ANSI emphasis (bold, italic, code). Leave false for pipes and tests.
	Color bool
	// Locale is the user's language as the system reports it ($LANG,
	// e.g. "es_ES.UTF-8"): it seeds a new session's language and country.
	Locale string
}

// Adapter is the terminal chat. Send is safe for concurrent use; Run is meant
// to be called once at a time.
type Adapter struct {
	opts       Options
	defaultDir bool // ImageDir was not given: harden it, it lives in a shared temp dir

	mu        sync.Mutex // guards everything below and every write to Out
	menu      []conversation.Option
	lettered  bool
	prompting bool // "> " is on screen and no line has been read since
	refs      uint64
}

// New returns an adapter with defaults filled in.
func New(opts Options) *Adapter {
	a := &Adapter{opts: opts}
	if a.opts.In == nil {
		a.opts.In = strings.NewReader("")
	}
	if a.opts.Out == nil {
		a.opts.Out = io.Discard
	}
	if a.opts.User == "" {
		a.opts.User = "local"
	}
	if a.opts.ImageDir == "" {
		a.opts.ImageDir = filepath.Join(os.TempDir(), "refillbot-qr")
		a.defaultDir = true
	}
	return a
}

func (a *Adapter) incoming(ev conversation.Event) bot.Incoming {
	return bot.Incoming{
		Key:     conversation.SessionKey{Platform: Platform, User: a.opts.User},
		Address: conversation.Address{Platform: Platform, Chat: a.opts.User, Private: true},
		Event:   ev,
		Locale:  a.opts.Locale,
	}
}

type readResult struct {
	line string
	err  error
}

// Run greets the user with a Start event, then reads lines until ctx is done
// (returning ctx.Err()) or input ends (returning nil). handle is called
// synchronously, so the replies to one line are printed before the next prompt.
//
// Lines are read one at a time on demand by a goroutine; when ctx is cancelled
// Run returns at once and that goroutine exits as soon as its pending Read
// returns (for real stdin possibly never, which is harmless at shutdown).
func (a *Adapter) Run(ctx context.Context, handle func(context.Context, bot.Incoming)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	a.menu, a.lettered = nil, false
	a.mu.Unlock()

	want := make(chan struct{})
	results := make(chan readResult)
	done := make(chan struct{})
	defer close(done)
	go func() {
		br := bufio.NewReader(a.opts.In)
		for {
			select {
			case <-want:
			case <-done:
				return
			}
			line, err := readLine(br)
			select {
			case results <- readResult{line, err}:
			case <-done:
				return
			}
		}
	}()

	handle(ctx, a.incoming(conversation.Start{}))
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := a.prompt(); err != nil {
			return err
		}
		select {
		case want <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		var res readResult
		select {
		case res = <-results:
		case <-ctx.Done():
			return ctx.Err()
		}
		a.mu.Lock()
		a.prompting = false
		menu, lettered := a.menu, a.lettered
		a.mu.Unlock()
		if res.err != nil {
			if errors.Is(res.err, io.EOF) {
				return nil
			}
			return fmt.Errorf("console: reading input: %w", res.err)
		}
		ev := parse(cleanLine(res.line), menu, lettered)
		if ev == nil {
			continue
		}
		handle(ctx, a.incoming(ev))
	}
}

func (a *Adapter) prompt() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.prompting = true
	_, err := io.WriteString(a.opts.Out, "> ")
	return err
}

// readLine reads one line, keeping at most maxLine bytes of it. A last line
// without a newline is returned before io.EOF.
func readLine(br *bufio.Reader) (string, error) {
	var buf []byte
	n := 0
	for {
		chunk, err := br.ReadSlice('\n')
		n += len(chunk)
		if room := maxLine - len(buf); room > 0 {
			buf = append(buf, chunk[:min(len(chunk), room)]...)
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == nil:
			return string(buf), nil
		case errors.Is(err, io.EOF) && n > 0:
			return string(buf), nil
		default:
			return "", err
		}
	}
}

// cleanLine makes a raw line valid UTF-8, at most maxLine bytes, without
// surrounding white space.
func cleanLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > maxLine {
		cut := maxLine
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return strings.TrimSpace(s)
}

// parse maps a cleaned line to an event; nil means ignore it.
func parse(line string, menu []conversation.Option, lettered bool) conversation.Event {
	if line == "" {
		return nil
	}
	if rest, ok := strings.CutPrefix(line, "/"); ok {
		name, args := rest, ""
		if i := strings.IndexFunc(rest, unicode.IsSpace); i >= 0 {
			name, args = rest[:i], strings.TrimSpace(rest[i:])
		}
		if name == "" { // "/" or "/ x": not a command
			return conversation.Text{Text: line}
		}
		name = strings.ToLower(name)
		if name == "start" {
			return conversation.Start{Payload: args}
		}
		return conversation.Command{Name: name, Args: args}
	}
	if !lettered && isDigits(line) {
		if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(menu) {
			return conversation.Chose{Token: menu[n-1].Token}
		}
	}
	if lettered && len(line) == 1 {
		c := line[0] | 0x20 // ASCII lower case
		if c >= 'a' && c <= 'z' {
			if i := int(c - 'a'); i < len(menu) {
				return conversation.Chose{Token: menu[i].Token}
			}
		}
	}
	return conversation.Text{Text: line}
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Send prints a reply and returns a message ref (a counter). It is safe for
// concurrent use: each reply is written in one piece.
//
// png, when not nil, is saved as a file in ImageDir and its path printed; r.QR,
// when set and a QR code (r.Barcode empty), is also drawn in the terminal.
// Failing to save the image does not fail the send: the text has been shown,
// and the failure is printed instead.
//
// Options are remembered for the next typed line: numbered, or lettered when
// r.Expect is ExpectAmount. A reply expecting an amount without options forgets
// the previous menu, so a typed number there is always an amount.
func (a *Adapter) Send(ctx context.Context, to conversation.Address, r conversation.Reply, png []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if to.Platform != "" && to.Platform != Platform {
		return "", fmt.Errorf("console: cannot send to platform %q", to.Platform)
	}
	lettered := r.Expect == conversation.ExpectAmount

	var b bytes.Buffer
	a.renderText(&b, r.Text)
	menu := r.Options
	if lettered && len(menu) > maxLetters {
		menu = menu[:maxLetters]
	}
	for i, o := range r.Options {
		label := sanitize(o.Label, false)
		switch {
		case !lettered:
			fmt.Fprintf(&b, "  %d) %s\n", i+1, label)
		case i < maxLetters:
			fmt.Fprintf(&b, "  %c) %s\n", 'a'+i, label)
		default: // cannot be typed; shown so nothing is hidden
			fmt.Fprintf(&b, "     %s\n", label)
		}
	}
	if png != nil {
		if path, err := a.savePNG(png); err != nil {
			fmt.Fprintf(&b, "🖼 ✗ %s\n", sanitize(err.Error(), false))
		} else {
			fmt.Fprintf(&b, "🖼 %s\n", sanitize(path, false))
		}
	}
	// A 1-D barcode is only in the PNG: a QR of its value would not scan at
	// the till.
	if r.QR != "" && r.Barcode == "" {
		if q, err := qrcode.New(r.QR, qrcode.Low); err != nil {
			fmt.Fprintf(&b, "QR code not shown: %s\n", sanitize(err.Error(), false))
		} else {
			b.WriteString(q.ToSmallString(false))
		}
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	if len(r.Options) > 0 {
		a.menu = append([]conversation.Option(nil), menu...)
		a.lettered = lettered
	} else if lettered {
		a.menu, a.lettered = nil, true
	}
	a.refs++
	ref := strconv.FormatUint(a.refs, 10)
	out := b.Bytes()
	if a.prompting {
		// A notification arrived while the user is at the prompt: move off the
		// prompt line, then draw the prompt again below the message.
		out = append(append([]byte("\n"), out...), "> "...)
	}
	if _, err := a.opts.Out.Write(out); err != nil {
		return "", fmt.Errorf("console: writing reply: %w", err)
	}
	return ref, nil
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiItalic = "\x1b[3m"
	ansiCode   = "\x1b[36m" // cyan
)

func (a *Adapter) renderText(b *bytes.Buffer, spans []conversation.Span) {
	n := b.Len()
	for _, s := range spans {
		t := sanitize(s.Text, true)
		on := ""
		if a.opts.Color && t != "" {
			switch s.Style {
			case conversation.Bold:
				on = ansiBold
			case conversation.Italic:
				on = ansiItalic
			case conversation.Code:
				on = ansiCode
			}
		}
		if on == "" {
			b.WriteString(t)
			continue
		}
		// Styles are reset at each newline so a wrapped terminal or a pager
		// never bleeds emphasis into the next line.
		for i, line := range strings.Split(t, "\n") {
			if i > 0 {
				b.WriteByte('\n')
			}
			if line != "" {
				b.WriteString(on + line + ansiReset)
			}
		}
	}
	if b.Len() > n && b.Bytes()[b.Len()-1] != '\n' {
		b.WriteByte('\n')
	}
}

// sanitize makes text safe to print: valid UTF-8, and no control or bidi
// characters that could move the cursor, inject escape sequences or reorder
// what the user sees. Newlines and tabs are kept in message text only.
func sanitize(s string, multiline bool) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			if multiline {
				return r
			}
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			return '\uFFFD'
		}
		return r
	}, s)
}

// savePNG writes png to a new owner-only file in ImageDir and returns its path.
func (a *Adapter) savePNG(png []byte) (path string, err error) {
	dir := a.opts.ImageDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if a.defaultDir {
		// The default lives in a shared temp dir: refuse a symlink someone else
		// planted, and make sure only we can list what is inside.
		fi, err := os.Lstat(dir)
		if err != nil {
			return "", err
		}
		if !fi.IsDir() {
			return "", fmt.Errorf("%s is not a directory", dir)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(dir, 0o700); err != nil {
				return "", err
			}
		}
	}
	f, err := os.CreateTemp(dir, "qr-*.png") // O_EXCL, mode 0600
	if err != nil {
		return "", err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(png); err != nil {
		return "", err
	}
	return f.Name(), nil
}
