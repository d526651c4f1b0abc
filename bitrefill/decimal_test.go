package bitrefill_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"refillbot/bitrefill"
)

func TestParseDecimal(t *testing.T) {
	valid := []struct{ in, want string }{
		{"25", "25"},
		{"25.50", "25.5"},
		{"25.5", "25.5"},
		{"0.01", "0.01"},
		{"-0.01", "-0.01"},
		{".5", "0.5"},
		{"1.", "1"},
		{"+7", "7"},
		{"007.100", "7.1"},
		{"-0", "0"},
		{"0.000", "0"},
		{"1e3", "1000"},
		{"1E+3", "1000"},
		{"1.5e-3", "0.0015"},
		{"2.50e1", "25"},
		{" 42 ", "42"},
		{"0.00123456", "0.00123456"},
		{"123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789"},
	}
	for _, tc := range valid {
		d, err := bitrefill.ParseDecimal(tc.in)
		if err != nil {
			t.Errorf("ParseDecimal(%q): %v", tc.in, err)
			continue
		}
		if got := d.String(); got != tc.want {
			t.Errorf("ParseDecimal(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	invalid := []string{"", " ", "abc", "1.2.3", "1e", "e3", "--1", "1,5", "NaN", "Inf", "-Inf",
		"0x10", "1e99999", "1e-99999", "1e600", strings.Repeat("9", 600), ".", "-", "+", "1 2", "1_000", "½", "١"}
	for _, in := range invalid {
		if d, err := bitrefill.ParseDecimal(in); err == nil {
			t.Errorf("ParseDecimal(%q) = %s, want error", in, d)
		} else if !errors.Is(err, bitrefill.ErrInvalidDecimal) {
			t.Errorf("ParseDecimal(%q) error %v does not wrap ErrInvalidDecimal", in, err)
		}
	}
}

func TestDecimalCents(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"25", 2500, false},
		{"25.5", 2550, false},
		{"25.50", 2550, false},
		{"0.01", 1, false},
		{"-1.25", -125, false},
		{"1e3", 100000, false},
		{"1.5e-2", 0, true},
		{"0", 0, false},
		{"0.001", 0, true},
		{"10.005", 0, true},
		{"92233720368547758.07", math.MaxInt64, false},
		{"92233720368547758.08", 0, true},
		{"-92233720368547758.08", math.MinInt64, false},
		{"-92233720368547758.09", 0, true},
		{"123456789012345678901234567890", 0, true},
	}
	for _, tc := range tests {
		got, err := bitrefill.MustDecimal(tc.in).Cents()
		if (err != nil) != tc.wantErr {
			t.Errorf("Cents(%s): err = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if got != tc.want {
			t.Errorf("Cents(%s) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestFromCents(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{2550, "25.5"}, {1, "0.01"}, {-5, "-0.05"}, {0, "0"}, {100, "1"}, {1001, "10.01"},
		{math.MaxInt64, "92233720368547758.07"}, {math.MinInt64, "-92233720368547758.08"},
	}
	for _, tc := range tests {
		d := bitrefill.FromCents(tc.in)
		if d.String() != tc.want {
			t.Errorf("FromCents(%d) = %s, want %s", tc.in, d, tc.want)
		}
		back, err := d.Cents()
		if err != nil || back != tc.in {
			t.Errorf("FromCents(%d).Cents() = %d, %v", tc.in, back, err)
		}
	}
	if !bitrefill.FromCents(0).IsZero() || bitrefill.FromCents(0) != (bitrefill.Decimal{}) {
		t.Error("FromCents(0) is not the zero Decimal")
	}
}

func TestDecimalCmpAndArithmetic(t *testing.T) {
	cmp := []struct {
		a, b string
		want int
	}{
		{"1", "1.0", 0}, {"1", "2", -1}, {"10", "9.99", 1}, {"-1", "1", -1}, {"-2", "-1", -1},
		{"0", "-0", 0}, {"0.1", "0.09", 1}, {"100", "99", 1}, {"-0.5", "0", -1}, {"12.345", "12.35", -1},
	}
	for _, tc := range cmp {
		if got := bitrefill.MustDecimal(tc.a).Cmp(bitrefill.MustDecimal(tc.b)); got != tc.want {
			t.Errorf("Cmp(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if got := bitrefill.MustDecimal("0.1").Add(bitrefill.MustDecimal("0.2")); got.String() != "0.3" {
		t.Errorf("0.1+0.2 = %s", got)
	}
	if got := bitrefill.MustDecimal("10").Sub(bitrefill.MustDecimal("10.01")); got.String() != "-0.01" {
		t.Errorf("10-10.01 = %s", got)
	}
	if got := bitrefill.MustDecimal("19.99").MulInt(3); got.String() != "59.97" {
		t.Errorf("19.99*3 = %s", got)
	}
	if bitrefill.MustDecimal("1.50") != bitrefill.MustDecimal("1.5") {
		t.Error("equal values are not == after canonicalisation")
	}
}

func TestDecimalJSON(t *testing.T) {
	var v struct {
		A, B, C, D bitrefill.Decimal
		E          bitrefill.Decimal `json:"e,omitzero"`
	}
	in := `{"A": 0.00123456, "B": "25.50", "C": null, "D": ""}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.String() != "0.00123456" || v.B.String() != "25.5" || !v.C.IsZero() || !v.D.IsZero() {
		t.Errorf("decoded %+v", v)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"A":0.00123456,"B":25.5,"C":0,"D":0}`; string(out) != want {
		t.Errorf("Marshal = %s, want %s", out, want)
	}
	for _, bad := range []string{`{"A": "abc"}`, `{"A": true}`, `{"A": {}}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
	// Huge and tiny numbers survive exactly (a float64 would not).
	var big bitrefill.Decimal
	if err := json.Unmarshal([]byte(`12345678901234567890.123456789012345678`), &big); err != nil {
		t.Fatal(err)
	}
	if big.String() != "12345678901234567890.123456789012345678" {
		t.Errorf("big = %s", big)
	}
}
