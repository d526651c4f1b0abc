package bitrefill_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"refillbot/bitrefill"
)

func TestParseLimits(t *testing.T) {
	def := bitrefill.DefaultLimits()
	with := func(c bitrefill.Class, rs ...bitrefill.Rate) bitrefill.Limits {
		l := bitrefill.DefaultLimits()
		l[c] = rs
		return l
	}
	for _, tc := range []struct {
		in      string
		want    bitrefill.Limits
		wantErr string
	}{
		{in: "", want: def},
		{in: "   ", want: def},
		{in: "off", want: bitrefill.Unlimited()},
		{in: " OFF ", want: bitrefill.Unlimited()},
		{in: "general=600/10m", want: with(bitrefill.ClassGeneral, bitrefill.Rate{N: 600, Per: 10 * time.Minute})},
		{in: "general=600/10m,products=300/1m", want: func() bitrefill.Limits {
			l := with(bitrefill.ClassGeneral, bitrefill.Rate{N: 600, Per: 10 * time.Minute})
			l[bitrefill.ClassProducts] = []bitrefill.Rate{{N: 300, Per: time.Minute}}
			return l
		}()},
		{in: "products=300/m+5000/h", want: with(bitrefill.ClassProducts, bitrefill.Rate{N: 300, Per: time.Minute}, bitrefill.Rate{N: 5000, Per: time.Hour})},
		{in: " Ping = 2 / 3s ", want: with(bitrefill.ClassPing, bitrefill.Rate{N: 2, Per: 3 * time.Second})},
		{in: "esims=off", want: with(bitrefill.ClassESIMPurchase)},
		{in: "general=60/1h30m", want: with(bitrefill.ClassGeneral, bitrefill.Rate{N: 60, Per: 90 * time.Minute})},
		{in: "general", wantErr: "want class=N/period"},
		{in: "orders=60/10m", wantErr: `unknown class "orders"`},
		{in: "general=60/10m,general=70/10m", wantErr: "given twice"},
		{in: "general=60", wantErr: "want N/period"},
		{in: "general=0/10m", wantErr: "whole number"},
		{in: "general=-5/10m", wantErr: "whole number"},
		{in: "general=1.5/10m", wantErr: "whole number"},
		{in: "general=60/10", wantErr: "period"},
		{in: "general=60/0s", wantErr: "period"},
		{in: "general=60/-1m", wantErr: "period"},
		{in: "general=60/48h", wantErr: "period"},
		{in: "general=60/10m+", wantErr: "want N/period"},
		{in: "general=60/10m,", wantErr: "want class=N/period"},
		{in: "off,general=60/10m", wantErr: "want class=N/period"},
	} {
		got, err := bitrefill.ParseLimits(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseLimits(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseLimits(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseLimits(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestLimitsString(t *testing.T) {
	for _, tc := range []struct {
		l    bitrefill.Limits
		want string
	}{
		{bitrefill.DefaultLimits(), "general=60/10m,products=60/1m+1000/1h,ping=1/3s,esims=60/10m"},
		{bitrefill.Unlimited(), "off"},
		{nil, "off"},
		{bitrefill.DefaultLimits().Faster(100), "general=60/6s,products=60/600ms+1000/36s,ping=1/30ms,esims=60/6s"},
	} {
		if got := tc.l.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestClassOf(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         bitrefill.Class
	}{
		{"GET", "/ping", bitrefill.ClassPing},
		{"GET", "/products", bitrefill.ClassProducts},
		{"GET", "/products/search", bitrefill.ClassProducts},
		{"GET", "/products/amazon-us", bitrefill.ClassProducts},
		{"GET", "/products/esims/bitrefill-esim-europe", bitrefill.ClassProducts},
		{"POST", "/esims", bitrefill.ClassESIMPurchase},
		{"GET", "/esims", bitrefill.ClassGeneral},
		{"GET", "/esims/8901", bitrefill.ClassGeneral},
		{"POST", "/invoices", bitrefill.ClassGeneral},
		{"GET", "/orders", bitrefill.ClassGeneral},
		{"GET", "/check_phone_number", bitrefill.ClassGeneral},
		{"GET", "/productsx", bitrefill.ClassGeneral},
	} {
		if got := bitrefill.ClassOf(tc.method, tc.path); got != tc.want {
			t.Errorf("ClassOf(%s %s) = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}
