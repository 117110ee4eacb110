using System;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Experiments;
using Microsoft.ML.DynMoE.Experiments.Reports;

namespace CompareWithTopK;

/// <summary>
/// The main job: on one shipped data set (digits by default), train DynMoE, the same network with fixed top-k gating
/// for k ∈ {1, 2, 4} × experts ∈ {4, 8, 16}, a dense network and LightGbm/FastTree/SDCA/L-BFGS on the same 3 cross-validation
/// folds, print the leaderboard (mean ± std over the folds, so a first result is not the noise of one split), and write it
/// (txt/csv/json), the charts and the best model. The statistics over many data sets are `dynmoe benchmark` (docs/results.md).
/// Usage: dotnet run --project samples/CompareWithTopK -c Release [-- [data.csv] [--epochs N] [--seconds N] [--output DIR] [--fast]]
/// The CSV's first column is the label (class names or numbers); every other column is a numeric feature.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // Ctrl+C stops the experiment after the running candidate; registered once per process, not per run.
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        return Run(args, Console.Out, cancel.Token);
    }

    public static int Run(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        string repoRoot = FindRepoRoot();
        string dataPath = Path.Combine(repoRoot, "samples", "data", "digits", "data.csv");
        string outputDir = Path.Combine(repoRoot, "samples", "CompareWithTopK", "output");
        int epochs = 10;
        uint seconds = 55;
        const int folds = 3;
        bool fast = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--epochs": epochs = int.Parse(args[++i]); break;
                case "--seconds": seconds = uint.Parse(args[++i]); break;
                case "--output": outputDir = args[++i]; break;
                case "--fast": fast = true; break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal) || !File.Exists(args[i]))
                    {
                        Console.Error.WriteLine($"Unknown option or missing file '{args[i]}'. Usage: [data.csv] [--epochs N] [--seconds N] [--output DIR] [--fast]");
                        return 2;
                    }
                    dataPath = args[i];
                    break;
            }
        }
        if (fast)
        {
            // Four candidates at 2 epochs: the model cap bounds the run, not the clock (which a busy machine stretches).
            epochs = Math.Min(epochs, 2);
            seconds = Math.Max(seconds, 600);
        }
        Directory.CreateDirectory(outputDir);

        var ml = new MLContext(seed: 1);
        int columns = File.ReadLines(dataPath).First().Split(',').Length;
        var data = ml.Data.CreateTextLoader(new[]
        {
            new TextLoader.Column("Label", DataKind.String, 0),
            new TextLoader.Column("Features", DataKind.Single, 1, columns - 1),
        }, separatorChar: ',', hasHeader: true).Load(dataPath);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        output.WriteLine($"Data: {dataPath} ({columns - 1} features), {folds}-fold cross-validation (mean ± std over folds), {epochs} epochs for every network, budget {seconds} s.");

        var experiment = ml.DynMoE().CreateExperiment(new DynMoEExperimentSettings { Seed = 1, NumberOfEpochs = epochs })
            .SetDataset(ml.Data.Cache(keyed), folds)
            .SetMulticlassClassificationMetric(MulticlassClassificationMetric.MacroAccuracy)
            .SetTrainingTimeInSeconds(seconds)
            .SetMonitor(new TextWriterMonitor(output));
        if (fast)
            experiment.SetMaxModelToExplore(4);

        var result = experiment.RunAsync(cancellationToken).GetAwaiter().GetResult();
        if (result.IsCancelled)
            output.WriteLine($"Cancelled after {result.Trials.Count} candidate(s); the leaderboard holds what finished.");

        var leaderboard = new Leaderboard(result);
        output.WriteLine();
        output.WriteLine(leaderboard.ToText());
        output.WriteLine(DynMoEComparison.ToText(DynMoEComparison.Compare(result), result.MetricName));
        leaderboard.Save(outputDir);
        foreach (string chart in LeaderboardCharts.SaveAll(result, outputDir))
            output.WriteLine($"Chart: {chart}");
        if (result.BestModel is not null)
        {
            string modelPath = Path.Combine(outputDir, "best-model.zip");
            ml.Model.Save(result.BestModel, keyed.Schema, modelPath);
            output.WriteLine($"Best: {result.BestTrial!.Name} ({result.MetricName} {result.BestTrial.Metric:F4}); model saved to {modelPath}");
        }
        output.WriteLine($"Leaderboard files: {outputDir}");
        return result.BestModel is null ? 1 : 0;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Microsoft.ML.DynMoE.sln")))
                return dir.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}
