using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Microsoft.ML.DynMoE.Experiments.Reports
{
    /// <summary>One leaderboard row; serialized to leaderboard.json with exactly these field names.</summary>
    public sealed class LeaderboardEntry
    {
        /// <summary>Candidate name.</summary>
        [JsonPropertyName("name")] public string Name { get; init; } = "";
        /// <summary>dynmoe | topk | dense | lightgbm | fasttree | sdca | lbfgs (custom for user candidates).</summary>
        [JsonPropertyName("family")] public string Family { get; init; } = "";
        /// <summary>Fixed k (top-k only).</summary>
        [JsonPropertyName("k")] public int? K { get; init; }
        /// <summary>Initial experts per layer.</summary>
        [JsonPropertyName("experts")] public int? Experts { get; init; }
        /// <summary>Final active experts per layer (mean over layers and folds).</summary>
        [JsonPropertyName("finalExperts")] public double? FinalExperts { get; init; }
        /// <summary>Metric name.</summary>
        [JsonPropertyName("metric")] public string Metric { get; init; } = "";
        /// <summary>Metric mean over folds.</summary>
        [JsonPropertyName("mean")] public double? Mean { get; init; }
        /// <summary>Metric standard deviation over folds.</summary>
        [JsonPropertyName("std")] public double? Std { get; init; }
        /// <summary>Mean activated experts per token.</summary>
        [JsonPropertyName("activatedExpertsPerToken")] public double? ActivatedExpertsPerToken { get; init; }
        /// <summary>Mean training seconds per fold.</summary>
        [JsonPropertyName("trainSeconds")] public double TrainSeconds { get; init; }
        /// <summary>succeeded | failed.</summary>
        [JsonPropertyName("status")] public string Status { get; init; } = "";
    }

    /// <summary>Leaderboard of an experiment: text table, CSV and JSON.</summary>
    public sealed class Leaderboard
    {
        private readonly DynMoEExperimentResult _result;

        /// <summary>Creates the leaderboard of <paramref name="result"/>, best first (failed trials last).</summary>
        public Leaderboard(DynMoEExperimentResult result)
        {
            _result = result ?? throw new ArgumentNullException(nameof(result));
            Trials = result.Trials
                .OrderBy(t => t.Status == TrialStatus.Succeeded ? 0 : 1)
                .ThenBy(t => t.Loss)
                .ToArray();
        }

        /// <summary>Trials in leaderboard order.</summary>
        public IReadOnlyList<TrialResult> Trials { get; }

        /// <summary>Lower-case family name used in reports.</summary>
        public static string FamilyName(CandidateFamily family) => family.ToString().ToLowerInvariant();

        /// <summary>Rows for JSON/CSV.</summary>
        public IReadOnlyList<LeaderboardEntry> Entries => Trials.Select(t => new LeaderboardEntry
        {
            Name = t.Name,
            Family = FamilyName(t.Family),
            K = t.K,
            Experts = t.Experts,
            FinalExperts = Round(t.FinalExperts),
            Metric = t.MetricName,
            Mean = t.Status == TrialStatus.Succeeded ? Round(t.Metric) : null,
            Std = t.Status == TrialStatus.Succeeded ? Round(t.MetricStd) : null,
            ActivatedExpertsPerToken = Round(t.ActivatedExpertsPerToken),
            TrainSeconds = Round(t.TrainingSeconds) ?? 0,
            Status = t.Status == TrialStatus.Succeeded ? "succeeded" : "failed",
        }).ToArray();

        private static double? Round(double? v) => v.HasValue && !double.IsNaN(v.Value) && !double.IsInfinity(v.Value) ? Math.Round(v.Value, 4) : null;

        private static string F(double? v, string format) => v.HasValue && !double.IsNaN(v.Value) ? v.Value.ToString(format, CultureInfo.InvariantCulture) : "-";

        /// <summary>Fixed-width text table.</summary>
        public string ToText()
        {
            var rows = new List<string[]>
            {
                new[] { "#", "Name", "Family", "k", "Experts", _result.MetricName, "Act/token", "Train s", "Rows/s", "Peak MB", "Status" },
            };
            int i = 1;
            foreach (var t in Trials)
            {
                string experts = t.Experts.HasValue ? $"{t.Experts}->{F(t.FinalExperts, "0.#")}" : (t.FinalExperts.HasValue ? F(t.FinalExperts, "0.#") : "-");
                string metric = t.Status == TrialStatus.Succeeded ? $"{F(t.Metric, "F4")} ± {F(t.MetricStd, "F4")}" : "-";
                rows.Add(new[]
                {
                    (i++).ToString(CultureInfo.InvariantCulture), t.Name, FamilyName(t.Family), t.K?.ToString(CultureInfo.InvariantCulture) ?? "-", experts, metric,
                    F(t.ActivatedExpertsPerToken, "F2"), F(t.TrainingSeconds, "F2"), F(t.ScoringRowsPerSecond, "F0"), F(t.PeakMemoryInMegaByte, "F0"),
                    t.Status == TrialStatus.Succeeded ? "ok" : "failed: " + Truncate(t.Error, 60),
                });
            }
            int[] widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
            var sb = new StringBuilder();
            foreach (var (r, idx) in rows.Select((r, idx) => (r, idx)))
            {
                sb.AppendLine(string.Join("  ", r.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
                if (idx == 0)
                    sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
            }
            return sb.ToString();
        }

        private static string Truncate(string? s, int n) => s == null ? "" : (s.Length <= n ? s : s.Substring(0, n) + "...");

        /// <summary>CSV with the JSON fields plus scoring rows/s, peak MB and error.</summary>
        public string ToCsv()
        {
            var sb = new StringBuilder();
            sb.AppendLine("name,family,k,experts,finalExperts,metric,mean,std,activatedExpertsPerToken,trainSeconds,scoringRowsPerSecond,peakMemoryMB,status,error");
            foreach (var t in Trials)
            {
                var e = Entries[Array.IndexOf(Trials.ToArray(), t)];
                sb.AppendLine(string.Join(",", new[]
                {
                    Csv(e.Name), e.Family, e.K?.ToString(CultureInfo.InvariantCulture) ?? "", e.Experts?.ToString(CultureInfo.InvariantCulture) ?? "",
                    Num(e.FinalExperts), e.Metric, Num(e.Mean), Num(e.Std), Num(e.ActivatedExpertsPerToken), Num(e.TrainSeconds),
                    Num(t.ScoringRowsPerSecond.HasValue ? Math.Round(t.ScoringRowsPerSecond.Value) : null), Num(t.PeakMemoryInMegaByte.HasValue ? Math.Round(t.PeakMemoryInMegaByte.Value) : null),
                    e.Status, Csv(t.Error ?? ""),
                }));
            }
            return sb.ToString();
        }

        private static string Num(double? v) => v.HasValue ? v.Value.ToString("R", CultureInfo.InvariantCulture) : "";

        private static string Csv(string s) => s.IndexOfAny(new[] { ',', '"', '\n', '\r' }) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

        /// <summary>JSON array of <see cref="LeaderboardEntry"/>.</summary>
        public string ToJson() => JsonSerializer.Serialize(Entries, new JsonSerializerOptions { WriteIndented = true });

        /// <summary>Writes leaderboard.txt, leaderboard.csv and leaderboard.json to <paramref name="directory"/>; returns the paths.</summary>
        public IReadOnlyList<string> Save(string directory)
        {
            Directory.CreateDirectory(directory);
            var files = new[] { Path.Combine(directory, "leaderboard.txt"), Path.Combine(directory, "leaderboard.csv"), Path.Combine(directory, "leaderboard.json") };
            File.WriteAllText(files[0], ToText());
            File.WriteAllText(files[1], ToCsv());
            File.WriteAllText(files[2], ToJson());
            return files;
        }
    }
}
