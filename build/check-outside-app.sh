#!/usr/bin/env bash
# Packs Microsoft.ML.DynMoE and restores + builds a fresh app that references it beside Microsoft.ML (the version the
# package pins), with warnings as errors: a dependency conflict such as NU1608 fails here before it reaches a user.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mlnet=$(sed -n 's|.*<MicrosoftMLVersion>\(.*\)</MicrosoftMLVersion>.*|\1|p' "$repo/Directory.Packages.props")

dotnet pack "$repo/src/Microsoft.ML.DynMoE/Microsoft.ML.DynMoE.csproj" -c Release -o "$work/feed" -p:Version=0.0.0-outsideapp > "$work/pack.log" 2>&1 \
  || { cat "$work/pack.log"; echo "outside app: dotnet pack failed" >&2; exit 1; }

mkdir -p "$work/app"
cat > "$work/app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="dynmoe-local" value="$work/feed" />
  </packageSources>
</configuration>
XML
cat > "$work/app/App.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <RestorePackagesPath>$work/packages</RestorePackagesPath>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Microsoft.ML" Version="$mlnet" />
    <PackageReference Include="Microsoft.ML.DynMoE" Version="0.0.0-outsideapp" />
  </ItemGroup>
</Project>
XML
cat > "$work/app/Program.cs" <<'CS'
using Microsoft.ML;
using Microsoft.ML.DynMoE;

var ml = new MLContext(seed: 1);
var trainer = ml.MulticlassClassification.Trainers.DynMoE(gating: GatingKind.TopK, topK: 2);
System.Console.WriteLine(trainer.GetType().Name);
CS
if ! dotnet build "$work/app/App.csproj" -c Release > "$work/build.log" 2>&1; then
  cat "$work/build.log"; echo "outside app: restore/build failed" >&2; exit 1
fi
if grep -q "NU1608\|NU1605\|NU1107" "$work/build.log"; then
  grep "NU1608\|NU1605\|NU1107" "$work/build.log"; echo "outside app: dependency warning" >&2; exit 1
fi
echo "outside app on Microsoft.ML $mlnet: restores and builds without dependency warnings"
