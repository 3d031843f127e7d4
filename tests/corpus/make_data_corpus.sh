#!/bin/sh
# Regenerates tests/corpus/{csv,svmlight,npy,arff}/: small valid files (ok-*) and malformed
# ones for tests/test_loaders.c, tests/e2e_data.sh and the fuzzers' seeds (tests/fuzz/).
# Plain printf, so it runs anywhere:   sh tests/corpus/make_data_corpus.sh
# Naming, in every folder: ok-* are valid; test-* are well-formed but bad as the --test file of
# the folder's ok training file; in npy/, labels-* are bad as the labels of ok-X.npy and
# features-* bad as the features of ok-y.npy; every other file is malformed on its own.
# Each folder's README says what is wrong with each file.
set -eu
cd "$(dirname "$0")"
mkdir -p csv svmlight npy arff

# ---- csv ----------------------------------------------------------------------------------
cd csv
{   # 30 rows, 3 classes by name, a header; one quoted label with a comma
    echo 'sepal_length,sepal_width,petal_length,species'
    i=0
    while [ $i -lt 30 ]; do
        c=$((i % 3))
        case $c in 0) s=setosa ;; 1) s=versicolor ;; 2) s='"virginica, var. 2"' ;; esac
        echo "$((4 + c)).$((i % 10)),$((3 - c)).$(((i * 7) % 10)),$((1 + 2 * c)).$(((i * 3) % 10)),$s"
        i=$((i + 1))
    done
} > ok-header.csv
{   # no header, integer labels 1 and 2 in the first column (--label 0), CRLF line ends
    i=0
    while [ $i -lt 20 ]; do
        printf '%d,%d.5,-%d.25\r\n' $((1 + i % 2)) $((i % 2 * 4)) $((i % 2 * 3))
        i=$((i + 1))
    done
} > ok-noheader.csv
{   # tab-separated, 0/1 labels last
    printf 'x\ty\tlabel\n'
    i=0
    while [ $i -lt 20 ]; do printf '%d.0\t%d\t%d\n' $((i % 2 * 5)) $i $((i % 2)); i=$((i + 1)); done
} > ok-tabs.tsv
: > empty.csv
printf '\n  \n\n' > only-blank-lines.csv
printf 'a,b,label\n' > header-only.csv
printf 'a,b,label\n1,2,x\n3,4\n5,6,y\n' > ragged-short.csv
printf 'a,b,label\n1,2,x\n3,4,y,7\n' > ragged-long.csv
printf 'a,b,label\n1,2,x\n3,4,y\n5,6' > truncated.csv
printf 'a,b,label\n1,NaN,x\n3,4,y\n' > nan.csv
printf 'a,b,label\n1,2,x\n-inf,4,y\n' > inf.csv
printf 'a,b,label\n1,2,x\n3,1e39,y\n' > beyond-float32.csv
printf 'a,b,label\n1,2,x\n3,four,y\n' > not-a-number.csv
printf 'a,b,label\n1,2,x\n3,,y\n' > empty-field.csv
printf 'a,b,label\n1,2,x\n3,4,\n' > missing-label.csv
printf 'a,b,label\n1,2,x\n3,4,x\n5,6,x\n' > one-class.csv
printf 'a,b,label\n1,2,x\n3,4,"y\n5,6,z\n' > unterminated-quote.csv
printf 'a,b,label\n1,2,x\n3,4,"y"z\n' > text-after-quote.csv
printf 'a,b,label\n1,2,x\n3,4,\377\376\n' > invalid-utf8-label.csv
printf 'a,\303\050,label\n1,2,x\n3,4,y\n' > invalid-utf8-header.csv
printf 'a,b,label\n1,2,x\n3,\0004,y\n' > nul-byte.csv
printf '\037\213\010\000\000\000\000\000\000\003' > gzipped.csv
printf 'label\nx\ny\n' > single-column.csv
printf 'sepal_length,sepal_width,petal_length,petal_width,species\n5,3,1,0.2,setosa\n6,2,4,1.3,versicolor\n' > test-more-columns.csv
printf 'sepal_length,sepal_width,petal_length,species\n5,3,1,setosa\n6,2,4,daisy\n' > test-unknown-class.csv
cat > README <<'EOF'
CSV test corpus, made by ../make_data_corpus.sh (run it to regenerate). One line per file.
ok-header.csv            valid: a header, 3 numeric columns, 30 rows of 3 classes named by text (one quoted, with a comma)
ok-noheader.csv          valid: no header, labels 1 and 2 in the FIRST column (--label 0), CRLF line ends
ok-tabs.tsv              valid: tab-separated (.tsv), a header, 0/1 labels in the last column
empty.csv                an empty file
only-blank-lines.csv     nothing but blank lines
header-only.csv          a header and no rows
ragged-short.csv         line 3 has 2 fields, the header 3
ragged-long.csv          line 3 has 4 fields, the header 3
truncated.csv            the last row is cut short (2 fields, no newline)
nan.csv                  a NaN feature
inf.csv                  a -inf feature
beyond-float32.csv       a feature of 1e39 (beyond float32)
not-a-number.csv         the feature 'four'
empty-field.csv          an empty feature field
missing-label.csv        an empty label field
one-class.csv            every row has the label x: a single class
unterminated-quote.csv   a quoted label whose closing quote never comes on its line
text-after-quote.csv     "y"z: text after a closing quote
invalid-utf8-label.csv   the label is the bytes FF FE (not UTF-8)
invalid-utf8-header.csv  a header field holding C3 28 (not UTF-8)
nul-byte.csv             a NUL byte inside a row (a binary file)
gzipped.csv              a gzip header (the file was not gunzipped)
single-column.csv        one column only: no features
test-more-columns.csv    as --test of ok-header.csv: 5 columns, the training file has 4
test-unknown-class.csv   as --test of ok-header.csv: the label 'daisy' is not a training class
A class with no rows cannot happen in CSV (the classes are the labels that occur).
EOF
cd ..

# ---- svmlight -----------------------------------------------------------------------------
cd svmlight
{   # LIBSVM style: +1/-1 labels, 1-based indices, qid, comments, a row with no features
    echo '# a comment line'
    i=0
    while [ $i -lt 20 ]; do
        if [ $((i % 2)) -eq 0 ]; then l=+1; v=0.$((i % 9 + 1)); else l=-1; v=-$((i % 5 + 1)); fi
        if [ $i -eq 7 ]; then echo "$l qid:3"; else echo "$l qid:$((i / 5)) 1:$v 3:$((i % 4)) 7:1.5e-3 # row $i"; fi
        i=$((i + 1))
    done
} > ok-1based.svm
{   # string labels, 0-based (index 0 present), tabs
    i=0
    while [ $i -lt 21 ]; do
        case $((i % 3)) in 0) l=ham ;; 1) l=spam ;; 2) l=eggs ;; esac
        printf '%s\t0:%d\t%d:0.5\n' $l $((i % 3)) $((2 + i % 3))
        i=$((i + 1))
    done
} > ok-0based.svm
: > empty.svm
printf '# nothing\n\n# but comments\n' > comments-only.svm
printf '1 1:0.5\n1:0.5 2:0.25\n' > no-label.svm
printf '1 1:0.5\n-1 3\n' > not-index-value.svm
printf '1 1:0.5\n-1 -1:0.5\n' > negative-index.svm
printf '1 1:0.5\n-1 99999999999:0.5\n' > huge-index.svm
printf '1 1:0.5\n-1 x:0.5\n' > index-not-a-number.svm
printf '1 1:0.5\n-1 5:1 3:1\n' > unsorted-indices.svm
printf '1 1:0.5\n-1 3:1 3:2\n' > duplicate-index.svm
printf '1 1:0.5\n-1 2:nan\n' > nan.svm
printf '1 1:0.5\n-1 2:inf\n' > inf.svm
printf '1 1:0.5\n-1 2:abc\n' > bad-value.svm
printf '1 1:0.5\n-1 2:\n' > empty-value.svm
printf '1 1:0.5\n-1 2:0.5 3' > truncated.svm
printf '1,2 1:0.5\n3 2:0.5\n' > multi-label.svm
printf '1 1:0.5\n1 2:0.5\n' > one-class.svm
printf '1\n-1\n1 # no features anywhere\n' > no-features.svm
printf '1 1:0.5\n\377 2:0.5\n' > invalid-utf8-label.svm
printf '1 1:0.5\n-1 2:0.\0005\n' > nul-byte.svm
printf '\037\213\010\000\000\000\000\000\000\003' > gzipped.svm
printf '+1 1:0.5\n2 2:0.5\n' > test-unknown-class.svm
cat > README <<'EOF'
svmlight/LIBSVM test corpus, made by ../make_data_corpus.sh (run it to regenerate). One line per file.
ok-1based.svm           valid: +1/-1 labels, 1-based indices, qid, comments, a row with no features
ok-0based.svm           valid: string labels ham/spam/eggs, 0-based (index 0 occurs), tab-separated
empty.svm               an empty file
comments-only.svm       comments and a blank line, no rows
no-label.svm            line 2 starts with 1:0.5: the label is missing
not-index-value.svm     '3' is not INDEX:VALUE
negative-index.svm      index -1 (out of range)
huge-index.svm          index 99999999999 (out of range)
index-not-a-number.svm  index 'x'
unsorted-indices.svm    index 3 after 5
duplicate-index.svm     index 3 twice in a row
nan.svm                 a NaN value
inf.svm                 an infinite value
bad-value.svm           the value 'abc'
empty-value.svm         '2:' without a value
truncated.svm           the file ends in the middle of a pair ('3', no newline)
multi-label.svm         a multi-label row (1,2)
one-class.svm           every row has the label 1: a single class
no-features.svm         no row has a feature (d would be 0)
invalid-utf8-label.svm  the label is the byte FF (not UTF-8)
nul-byte.svm            a NUL byte inside a value (a binary file)
gzipped.svm             a gzip header (the file was not gunzipped)
test-unknown-class.svm  as --test of ok-1based.svm: the label 2 is not a training class
A class with no rows cannot happen in svmlight (the classes are the labels that occur).
EOF
cd ..

# ---- npy ----------------------------------------------------------------------------------
cd npy
# npy_head MAJOR DICT: the preamble and the dict, padded with spaces and a newline to a multiple
# of 64 bytes, as numpy writes it (header length: 2 bytes little-endian for 1.0, 4 after).
byte() { printf "\\$(printf %03o "$1")"; }
npy_head() {
    pre=$((10 + ($1 > 1) * 2)); len=$((${#2} + 1)); pad=$(( (64 - (pre + len) % 64) % 64 ))
    hl=$((len + pad))
    printf '\223NUMPY'; byte "$1"; byte 0
    byte $((hl % 256)); byte $((hl / 256))
    if [ "$1" -gt 1 ]; then byte 0; byte 0; fi
    printf '%s' "$2"
    i=0; while [ $i -lt $pad ]; do printf ' '; i=$((i + 1)); done
    printf '\n'
}
F0='\000\000\000\000' F1='\000\000\200\077' F2='\000\000\000\100' FH='\000\000\000\077'
FNAN='\000\000\300\177' FINF='\000\000\200\177'
I0='\000\000\000\000\000\000\000\000' I1='\001\000\000\000\000\000\000\000'
# rows N: N rows of 4 float32: class 0 rows (even) near 0, class 1 rows near 2
rows() { i=0; while [ $i -lt "$1" ]; do if [ $((i % 2)) -eq 0 ]; then printf "$F0$FH$F0$F1"; else printf "$F2$F1$F2$F2"; fi; i=$((i + 1)); done; }
labels() { i=0; while [ $i -lt "$1" ]; do if [ $((i % 2)) -eq 0 ]; then printf "$I0"; else printf "$I1"; fi; i=$((i + 1)); done; }
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }"; rows 20; } > ok-X.npy
{ npy_head 1 "{'descr': '<i8', 'fortran_order': False, 'shape': (20,), }"; labels 20; } > ok-y.npy
{   # the same 20x4 matrix as float64, version 2.0
    npy_head 2 "{'descr': '<f8', 'fortran_order': False, 'shape': (20, 4), }"
    D0='\000\000\000\000\000\000\000\000' D1='\000\000\000\000\000\000\360\077'
    D2='\000\000\000\000\000\000\000\100' DH='\000\000\000\000\000\000\340\077'
    i=0; while [ $i -lt 20 ]; do if [ $((i % 2)) -eq 0 ]; then printf "$D0$DH$D0$D1"; else printf "$D2$D1$D2$D2"; fi; i=$((i + 1)); done
} > ok-X-f64-v2.npy
{   # the same matrix as float16 in Fortran order (column by column), version 3.0
    npy_head 3 "{'descr': '<f2', 'fortran_order': True, 'shape': (20, 4), }"
    H0='\000\000' H1='\000\074' H2='\000\100' HH='\000\070'
    for col in "$H0 $H2" "$HH $H1" "$H0 $H2" "$H1 $H2"; do
        set -- $col
        i=0; while [ $i -lt 20 ]; do if [ $((i % 2)) -eq 0 ]; then printf "$1"; else printf "$2"; fi; i=$((i + 1)); done
    done
} > ok-X-f16-fortran-v3.npy
{   # string labels: '<U3' cat/dog (UTF-32LE, NUL-padded)
    npy_head 1 "{'descr': '<U3', 'fortran_order': False, 'shape': (20,), }"
    i=0; while [ $i -lt 20 ]; do if [ $((i % 2)) -eq 0 ]; then printf 'c\0\0\0a\0\0\0t\0\0\0'; else printf 'd\0\0\0o\0\0\0g\0\0\0'; fi; i=$((i + 1)); done
} > ok-y-str.npy
: > empty.npy
printf 'PK\003\004\024\000\000\000' > npz-archive.npy
printf '\037\213\010\000\000\000\000\000\000\003' > gzipped.npy
{ printf '\223NUMPX\001\000'; printf 'v\000'; printf '%118s\n' ''; } > bad-magic.npy
printf '\223NUM' > truncated-magic.npy
printf '\223NUMPY\001\000\166' > truncated-header-length.npy
{ npy_head 4 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }"; rows 20; } > bad-version.npy
npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }" | head -c 50 > truncated-header.npy
{ npy_head 1 "['descr', '<f4']"; rows 20; } > header-not-a-dict.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, }"; rows 20; } > header-no-shape.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), 'extra': 1, }"; rows 20; } > header-unknown-key.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, x), }"; rows 20; } > header-bad-shape.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (20, 4), }"; rows 20; } > header-bad-fortran-order.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), } junk"; rows 20; } > header-trailing-text.npy
{ npy_head 1 "{'descr': '<c8', 'fortran_order': False, 'shape': (20, 4), }"; rows 20; rows 20; } > complex-dtype.npy
{ npy_head 1 "{'descr': '|O', 'fortran_order': False, 'shape': (20,), }"; labels 20; } > object-array.npy
{ npy_head 1 "{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (20,), }"; labels 20; } > structured-dtype.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }"; rows 19; } > truncated-data.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }"; rows 20; printf 'xyz'; } > trailing-bytes.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }"; rows 1; } > overflow-shape.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }"; } > zero-rows.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }"; rows 5; printf "$F0$FNAN$F0$F1"; rows 14; } > nan.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }"; rows 11; printf "$F0$F0$F0$FINF"; rows 8; } > inf.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20,), }"; rows 5; } > features-1d.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (10, 2, 4), }"; rows 20; } > features-3d.npy
{ npy_head 1 "{'descr': '<U3', 'fortran_order': False, 'shape': (20, 1), }"; i=0; while [ $i -lt 20 ]; do printf 'a\0\0\0b\0\0\0c\0\0\0'; i=$((i + 1)); done; } > features-strings.npy
{ npy_head 1 "{'descr': '<i8', 'fortran_order': False, 'shape': (19,), }"; labels 19; } > labels-count-mismatch.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20,), }"; i=0; while [ $i -lt 20 ]; do if [ $i -eq 3 ]; then printf "$FH"; else printf "$F1"; fi; i=$((i + 1)); done; } > labels-fractional.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20,), }"; i=0; while [ $i -lt 20 ]; do if [ $i -eq 4 ]; then printf "$FNAN"; else printf "$F1"; fi; i=$((i + 1)); done; } > labels-nan.npy
{ npy_head 1 "{'descr': '<i8', 'fortran_order': False, 'shape': (20,), }"; i=0; while [ $i -lt 20 ]; do printf "$I1"; i=$((i + 1)); done; } > labels-one-class.npy
{ npy_head 1 "{'descr': '<i8', 'fortran_order': False, 'shape': (10, 2), }"; labels 20; } > labels-2d.npy
{ npy_head 1 "{'descr': '<U1', 'fortran_order': False, 'shape': (20,), }"; i=0; while [ $i -lt 20 ]; do if [ $i -eq 6 ]; then printf '\000\330\000\000'; else printf 'a\0\0\0'; fi; i=$((i + 1)); done; } > labels-invalid-utf32.npy
{ npy_head 1 "{'descr': '|S2', 'fortran_order': False, 'shape': (20,), }"; i=0; while [ $i -lt 20 ]; do if [ $i -eq 2 ]; then printf '\377\376'; else printf 'ab'; fi; i=$((i + 1)); done; } > labels-invalid-utf8.npy
{ npy_head 1 "{'descr': '<U2', 'fortran_order': False, 'shape': (20,), }"; i=0; while [ $i -lt 20 ]; do if [ $i -eq 9 ]; then printf '\0\0\0\0\0\0\0\0'; else printf 'a\0\0\0%s\0\0\0' $((i % 2)); fi; i=$((i + 1)); done; } > labels-empty-string.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 5), }"; rows 25; } > test-X-5-features.npy
{ npy_head 1 "{'descr': '<i8', 'fortran_order': False, 'shape': (20,), }"; i=0; while [ $i -lt 20 ]; do if [ $i -eq 1 ]; then printf '\007\000\000\000\000\000\000\000'; else printf "$I0"; fi; i=$((i + 1)); done; } > test-y-unknown-class.npy
cat > README <<'EOF'
NumPy .npy test corpus, made by ../make_data_corpus.sh (run it to regenerate). One line per file.
ok-X.npy                     valid features: float32 (20, 4), version 1.0, C order
ok-y.npy                     valid labels: int64 (20,), 0,1,0,1,...
ok-X-f64-v2.npy              valid: the same matrix as float64, version 2.0
ok-X-f16-fortran-v3.npy      valid: the same matrix as float16 in Fortran order, version 3.0
ok-y-str.npy                 valid labels: '<U3' cat,dog,cat,...
empty.npy                    an empty file
npz-archive.npy              a zip (.npz) archive header
gzipped.npy                  a gzip header
bad-magic.npy                magic \x93NUMPX
truncated-magic.npy          4 bytes: the magic is cut short
truncated-header-length.npy  the 2-byte header length is cut short
bad-version.npy              format version 4.0
truncated-header.npy         the file ends inside the header dict
header-not-a-dict.npy        the header is a list, not a dict
header-no-shape.npy          the dict lacks 'shape'
header-unknown-key.npy       the dict has a key 'extra'
header-bad-shape.npy         'shape': (20, x)
header-bad-fortran-order.npy 'fortran_order': Maybe
header-trailing-text.npy     text after the dict's closing brace
complex-dtype.npy            dtype '<c8' (complex)
object-array.npy             dtype '|O' (pickled objects)
structured-dtype.npy         a structured dtype (a list of fields)
truncated-data.npy           19 of the 20 rows
trailing-bytes.npy           3 bytes after the data
overflow-shape.npy           a shape whose size overflows
zero-rows.npy                shape (0, 4): no rows
nan.npy                      a NaN at row 5, column 1
inf.npy                      +Inf at row 11, column 3
features-1d.npy              as features: shape (20,), not 2-D (fine as labels)
features-3d.npy              as features: shape (10, 2, 4), not 2-D
features-strings.npy         as features: dtype '<U3' (strings)
labels-count-mismatch.npy    as labels of ok-X.npy: 19 labels for 20 rows
labels-fractional.npy        as labels: float32, label 3 is 0.5
labels-nan.npy               as labels: float32, label 4 is NaN
labels-one-class.npy         as labels: every label is 1
labels-2d.npy                as labels: shape (10, 2)
labels-invalid-utf32.npy     as labels: '<U1' holding the surrogate U+D800
labels-invalid-utf8.npy      as labels: '|S2' holding the bytes FF FE
labels-empty-string.npy      as labels: '<U2', label 9 is the empty string
test-X-5-features.npy        as --test features (with ok-y.npy): 5 features, the training X has 4
test-y-unknown-class.npy     as --test labels (with ok-X.npy): the label 7 is not a training class
A class with no rows cannot happen in .npy (the classes are the labels that occur).
EOF
cd ..

# ---- arff ---------------------------------------------------------------------------------
cd arff
{
    echo '% A small iris-like set.'
    echo '@RELATION iris'
    echo ''
    echo "@ATTRIBUTE 'sepal length' NUMERIC"
    echo '@attribute sepalwidth real'
    echo '@attribute petallength integer'
    echo "@attribute class {Iris-setosa, Iris-versicolor, 'Iris virginica'}"
    echo '@DATA'
    i=0
    while [ $i -lt 30 ]; do
        case $((i % 3)) in 0) c=Iris-setosa ;; 1) c=Iris-versicolor ;; 2) c="'Iris virginica'" ;; esac
        echo "$((4 + i % 3)).$((i % 10)), $((3 - i % 3)).$(((i * 7) % 10)),$((1 + i % 3)),$c"
        i=$((i + 1))
    done
    echo '% trailing comment'
} > ok-iris.arff
{   # a nominal feature (one-hot), the class (last nominal) not the last attribute
    echo '@relation weather'
    echo '@attribute outlook {sunny, overcast, rainy}'
    echo '@attribute temperature numeric'
    echo '@attribute play {yes, no}'
    echo '@attribute humidity numeric'
    echo '@data'
    i=0
    while [ $i -lt 20 ]; do
        case $((i % 3)) in 0) o=sunny ;; 1) o=overcast ;; 2) o=rainy ;; esac
        if [ $((i % 2)) -eq 0 ]; then p=yes; else p=no; fi
        echo "$o,$((60 + i)),$p,$((70 + i % 7))"
        i=$((i + 1))
    done
} > ok-nominal-features.arff
H='@relation r
@attribute a numeric
@attribute b numeric
@attribute class {x, y}
@data'
: > empty.arff
printf '%% only\n%% comments\n' > comments-only.arff
printf '@relation r\n@attribute a numeric\n@attribute class {x, y}\n' > no-data-section.arff
printf '@relation r\n@data\n1,x\n' > data-before-attributes.arff
printf '@relation r\n@attribut a numeric\n@data\n' > unknown-keyword.arff
printf '@relation r\nhello\n@attribute a numeric\n@data\n' > junk-in-header.arff
printf '@relation r\n@attribute a string\n@attribute class {x, y}\n@data\n' > string-attribute.arff
printf '@relation r\n@attribute a date "yyyy-MM-dd"\n@attribute class {x, y}\n@data\n' > date-attribute.arff
printf '@relation r\n@attribute a float\n@attribute class {x, y}\n@data\n' > unknown-type.arff
printf '@relation r\n@attribute a numeric\n@attribute class {x, y\n@data\n' > unclosed-nominal.arff
printf '@relation r\n@attribute a numeric\n@attribute class {}\n@data\n' > empty-nominal.arff
printf '@relation r\n@attribute a numeric\n@attribute class {x, x}\n@data\n' > duplicate-nominal.arff
printf '@relation r\n@attribute "a numeric\n@data\n' > unterminated-name.arff
printf '@relation r\n@attribute a numeric\n@attribute b numeric\n@data\n1,2\n' > no-nominal-attribute.arff
printf '%s\n1,2,x\n3,y\n' "$H" > ragged-short.arff
printf '%s\n1,2,x\n3,4,y,5\n' "$H" > ragged-long.arff
printf '%s\n1,2,x\n3,4,y\n5,6' "$H" > truncated.arff
printf '%s\n1,2,x\n3,?,y\n' "$H" > missing-value.arff
printf '%s\n1,2,x\n3,NaN,y\n' "$H" > nan.arff
printf '%s\n1,2,x\n3,Infinity,y\n' "$H" > inf.arff
printf '%s\n1,2,x\n3,4e40,y\n' "$H" > beyond-float32.arff
printf '%s\n1,2,x\n3,four,y\n' "$H" > not-a-number.arff
printf '%s\n1,2,x\n3,4,z\n' "$H" > unknown-class-value.arff
printf '@relation r\n@attribute a numeric\n@attribute class {x, y, z}\n@data\n1,x\n2,y\n3,x\n' > class-with-no-rows.arff
printf '@relation r\n@attribute a numeric\n@attribute class {x}\n@data\n1,x\n2,x\n' > one-class.arff
printf '%s\n1,2,x\n{0 3, 2 y}\n' "$H" > sparse-row.arff
printf "%s\n1,2,x\n3,4,'y\n" "$H" > unterminated-quote.arff
printf '@relation r\n@attribute a numeric\n@attribute class {x, \377}\n@data\n1,x\n' > invalid-utf8.arff
printf '%s\n1,2,x\n3,\0004,y\n' "$H" > nul-byte.arff
printf '\037\213\010\000\000\000\000\000\000\003' > gzipped.arff
printf '@relation r\n@attribute a numeric\n@attribute class {x, y}\n@attribute class2 {p, q}\n@data\n1,x,p\n2,y,q\n' > test-different-header.arff
printf "@relation iris\n@attribute 'sepal length' numeric\n@attribute sepalwidth real\n@attribute petallength integer\n@attribute class {Iris-setosa, Iris-versicolor}\n@data\n1,2,3,Iris-setosa\n" > test-other-class-values.arff
cat > README <<'EOF'
ARFF test corpus, made by ../make_data_corpus.sh (run it to regenerate). One line per file.
ok-iris.arff                 valid: 3 numeric attributes (numeric, real, integer; one quoted name), class {3 values, one quoted}, comments, upper-case keywords
ok-nominal-features.arff     valid: a nominal feature (one-hot), the class (last nominal) followed by a numeric attribute
empty.arff                   an empty file
comments-only.arff           comments only: no header
no-data-section.arff         attributes but no @data line
data-before-attributes.arff  @data before any @attribute
unknown-keyword.arff         @attribut (misspelt)
junk-in-header.arff          a line 'hello' in the header
string-attribute.arff        an attribute of type string (not supported)
date-attribute.arff          an attribute of type date (not supported)
unknown-type.arff            an attribute of type float (not an ARFF type)
unclosed-nominal.arff        {x, y without the closing brace
empty-nominal.arff           {}: a nominal attribute without values
duplicate-nominal.arff       {x, x}: a value declared twice
unterminated-name.arff       an attribute name whose closing quote never comes
no-nominal-attribute.arff    no nominal attribute to be the class
ragged-short.arff            a row of 2 values for 3 attributes
ragged-long.arff             a row of 4 values for 3 attributes
truncated.arff               the last row is cut short (2 values, no newline)
missing-value.arff           a missing value '?'
nan.arff                     a NaN value
inf.arff                     an Infinity value
beyond-float32.arff          4e40 (beyond float32)
not-a-number.arff            the value 'four' for a numeric attribute
unknown-class-value.arff     the class value z is not declared
class-with-no-rows.arff      the class z is declared but has no rows
one-class.arff               the class attribute declares a single value
sparse-row.arff              a sparse row {0 3, 2 y} (not supported)
unterminated-quote.arff      a quoted value whose closing quote never comes
invalid-utf8.arff            a nominal value holding the byte FF (not UTF-8)
nul-byte.arff                a NUL byte inside a row (a binary file)
gzipped.arff                 a gzip header (the file was not gunzipped)
test-different-header.arff   as --test of ok-iris.arff: other attributes
test-other-class-values.arff as --test of ok-iris.arff: the class declares other values
EOF
cd ..
