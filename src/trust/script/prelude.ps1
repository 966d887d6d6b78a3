
#Requires -Version 5.1

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$EvidenceFormat = '@FORMAT@'
$Written = New-Object -TypeName 'System.Collections.Generic.List[string]'
$NotRemoved = New-Object -TypeName 'System.Collections.Generic.List[string]'

function Format-HostUrl {
    # Lower case with one trailing slash, the form t2t-notify compares.
    param([Parameter(Mandatory = $true)][AllowEmptyString()][string] $Url)
    return $Url.Trim().TrimEnd('/').ToLowerInvariant() + '/'
}

function Assert-SharePointModule {
    $module = 'Microsoft.Online.SharePoint.PowerShell'
    if (-not (Get-Module -ListAvailable -Name $module)) {
        throw "The SharePoint Online Management Shell is not installed. Install it with: Install-Module -Name $module -Scope CurrentUser"
    }
    if (-not (Get-Module -Name $module)) {
        try {
            Import-Module -Name $module -DisableNameChecking
        } catch {
            throw "Cannot load $module ($($_.Exception.Message)). In PowerShell 7 with an older module, run: Import-Module -Name $module -UseWindowsPowerShell, then this script again."
        }
    }
    foreach ($cmdlet in 'Get-SPOCrossTenantHostUrl', 'Remove-SPOCrossTenantRelationship', 'Verify-SPOCrossTenantRelationship') {
        if (-not (Get-Command -Name $cmdlet -ErrorAction SilentlyContinue)) {
            throw "$cmdlet is missing: the module is too old. Run: Update-Module -Name $module"
        }
    }
    Write-Host "SharePoint Online Management Shell: loaded."
}

function Get-ConnectedHostUrl {
    # Fails when the session is not connected, so it also checks the connection.
    try {
        $url = [string](Get-SPOCrossTenantHostUrl)
    } catch {
        throw "Not connected to SharePoint Online ($($_.Exception.Message)). Connect first: Connect-SPOService -Url @ADMIN_URLS@"
    }
    return (Format-HostUrl -Url $url)
}

function Get-CheckedBy {
    # The account connected with Connect-SPOService when the module tells it, else the Windows user.
    try {
        $context = [Microsoft.Online.SharePoint.PowerShell.SPOService]::CurrentService.Context
        $user = $context.Web.CurrentUser
        $context.Load($user)
        $context.ExecuteQuery()
        $login = [string]$user.LoginName
        if ($login) {
            return ($login -split '\|')[-1]
        }
    } catch {
        Write-Verbose "The connected account could not be read: $($_.Exception.Message)"
    }
    if ($env:USERNAME) {
        return $env:USERNAME
    }
    return [Environment]::UserName
}

function Invoke-Step {
    # Prints the command, then runs it and returns its output.
    param([Parameter(Mandatory = $true)][scriptblock] $Command)
    Write-Host ('    > ' + $Command.ToString().Trim())
    & $Command
}

function Write-Evidence {
    param(
        [Parameter(Mandatory = $true)][string] $Side,
        [Parameter(Mandatory = $true)][int] $Number,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string] $HostUrl,
        [Parameter(Mandatory = $true)][string] $PartnerUrl,
        [Parameter(Mandatory = $true)][string] $PartnerRole,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string] $VerifyResult
    )
    $evidence = [ordered]@{
        Format                    = $EvidenceFormat
        Side                      = $Side
        CrossTenantHostUrl        = $HostUrl
        PartnerCrossTenantHostUrl = $PartnerUrl
        PartnerRole               = $PartnerRole
        Scenario                  = '@SCENARIO@'
        VerifyResult              = $VerifyResult
        CheckedAtUtc              = [DateTime]::UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", [Globalization.CultureInfo]::InvariantCulture)
        CheckedBy                 = $CheckedBy
    }
    $path = Join-Path -Path (Get-Location).ProviderPath -ChildPath "trust-evidence-$Side-$Number.json"
    $json = $evidence | ConvertTo-Json
    [System.IO.File]::WriteAllText($path, $json, (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false))
    $Written.Add($path)
    Write-Host "    wrote $path"
    if ($VerifyResult -ne 'NotEstablished') {
        Write-Warning "Verify-SPOCrossTenantRelationship answered '$VerifyResult', not NotEstablished: the trust with $PartnerUrl is NOT removed."
        $NotRemoved.Add("$Side pair $Number ($PartnerUrl): $VerifyResult")
    }
}

Assert-SharePointModule
$Connected = Get-ConnectedHostUrl
$CheckedBy = Get-CheckedBy
Write-Host "Connected to the geography whose cross-tenant host URL is $Connected, as $CheckedBy."
