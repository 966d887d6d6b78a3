
# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------
Write-Host ''
Write-Host "Wrote $($Written.Count) evidence file(s):"
foreach ($path in $Written) {
    Write-Host "    $path"
}
if ($NotRemoved.Count -gt 0) {
    throw "The trust is NOT removed for: $($NotRemoved -join '; '). t2t-notify refuses these files; 't2t-notify trust confirm' explains each answer. Run this script again once the cause is fixed."
}
Write-Host 'Next, on the machine that runs t2t-notify:'
Write-Host '    t2t-notify trust confirm trust-evidence-*.json'
Write-Host '    t2t-notify trust status'
