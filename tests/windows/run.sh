#!/usr/bin/env bash
# Windows checks on a Debian machine without Windows: cross-build the .exe with mingw, then under
# Wine run the library's unit tests, tests/windows/e2e.sh (validate, preview, trust confirm,
# send to smtp-sink on 127.0.0.1, a rerun, the ledger lock, report) and tests/windows/service.sh
# (serve as a service of Wine's service control manager, stopped with sc stop). Called by .ci/run, which
# installs the Debian packages and the Rust target; runnable alone after that.
set -euo pipefail
cd "$(dirname "$0")/../.."

target=x86_64-pc-windows-gnu
out="target/$target/release"
export WINE="${WINE:-/usr/lib/wine/wine64}"
export WINEDEBUG=-all
WINEPREFIX="$(mktemp -d)/wine"
export WINEPREFIX
trap 'wineserver -k >/dev/null 2>&1 || true; rm -rf "$(dirname "$WINEPREFIX")"' EXIT

cargo build --locked --release --target "$target"

# Debian's Wine 8 has no ProcessPrng, which Rust's standard library calls at start-up; the shim
# DLL forwards it to RtlGenRandom. Windows looks for a DLL next to the .exe first.
mkdir -p "$out/deps"
x86_64-w64-mingw32-gcc -O2 -shared -o "$out/bcryptprimitives.dll" \
  tests/windows/processprng-shim.c -ladvapi32
cp "$out/bcryptprimitives.dll" "$out/deps/"

"$WINE" wineboot --init >/dev/null 2>&1

# Unit tests, release profile to share the dependencies built above. Skipped under Wine: the
# owner-only checks, which read a file's access-control list back by its path. Upstream Wine
# (Debian's 8.0) stores no list: SetNamedSecurityInfoW succeeds, the wineserver's file_set_sd
# and dir_set_sd only chmod the Unix file, and each later handle gets a list that
# file_get_sd/dir_get_sd rebuild from the mode bits (mode_to_sd: Local System first, never
# protected). The user.wine.sd xattr that would keep it is a Wine Staging patch: Debian's
# wineserver64 imports no xattr function. So what Windows would store cannot be seen here.
skip=(
  platform::tests::windows::a_private_file_grants_only_the_current_user_and_inherits_nothing
  platform::tests::windows::a_private_folder_grants_only_the_current_user_and_passes_that_on
  ledger::tests::new_ledger_is_private_and_current
  notify::file::tests::files_are_private_never_replace_another_run_and_rewrite_in_place
  transport::file::tests::writes_one_private_file_named_after_the_message_id
  serve::inbox::tests::the_inbox_folders_and_reason_files_are_owner_only
)
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$WINE" \
  cargo test --locked --release --lib --target "$target" -- --exact "${skip[@]/#/--skip=}"

bash tests/windows/e2e.sh "$out/t2t-notify.exe"
bash tests/windows/service.sh "$out/t2t-notify.exe"
