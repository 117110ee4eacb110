using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE;
using Microsoft.ML.DynMoE.Layers;

// Trains DynMoE (top-any, adaptive), the same network with fixed top-k gating for several k and expert counts,
// and a dense network of matching width on one shipped data set, and prints a leaderboard.
// Usage: dotnet run --project samples/CompareWithTopK -c Release [-- <csv with Label first> [epochs]]
string repoRoot = FindRepoRoot();
string dataPath = args.Length > 0 ? args[0] : Path.Combine(repoRoot, "samples", "data", "digits", "data.csv");
int epochs = args.Length > 1 ? int.Parse(args[1]) : 20;
string outputDir = Path.Combine(repoRoot, "samples", "CompareWithTopK", "output");
Directory.CreateDirectory(outputDir);

var ml = new MLContext(seed: 1);
int columns = File.ReadLines(dataPath).First().Split(',').Length;
var data = ml.Data.CreateTextLoader(new[]
{
    new TextLoader.Column("Label", DataKind.String, 0),
    new TextLoader.Column("Features", DataKind.Single, 1, columns - 1),
}, separatorChar: ',', hasHeader: true).Load(dataPath);
var split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1);
Console.WriteLine($"Data: {dataPath} ({columns - 1} features), 80/20 split, {epochs} epochs per network, 1 TorchSharp thread.");

var candidates = new (string Name, Action<DynMoEMulticlassTrainer.Options> Configure)[]
{
    ("DynMoE top-any (4 -> <=16 experts)", o => { o.Gating = GatingKind.TopAny; o.NumberOfExperts = 4; o.MaximumNumberOfExperts = 16; }),
    ("Top-1 of 4", o => { o.Gating = GatingKind.TopK; o.TopK = 1; o.NumberOfExperts = 4; }),
    ("Top-2 of 4", o => { o.Gating = GatingKind.TopK; o.TopK = 2; o.NumberOfExperts = 4; }),
    ("Top-1 of 8", o => { o.Gating = GatingKind.TopK; o.TopK = 1; o.NumberOfExperts = 8; }),
    ("Top-2 of 8", o => { o.Gating = GatingKind.TopK; o.TopK = 2; o.NumberOfExperts = 8; }),
    ("Dense FFN (width 2x64)", o => { o.Gating = GatingKind.Dense; o.ExpertHiddenSize = 128; }),
};

Console.WriteLine();
Console.WriteLine($"{"candidate",-36} {"macro-acc",9} {"micro-acc",9} {"act/token",9} {"experts",12} {"train s",8}");
ITransformer? best = null;
double bestAccuracy = -1;
foreach (var (name, configure) in candidates)
{
    var options = new DynMoEMulticlassTrainer.Options { NumberOfEpochs = epochs, Device = DynMoEDevice.Cpu };
    configure(options);
    var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
        .Append(ml.MulticlassClassification.Trainers.DynMoE(options))
        .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
    var stopwatch = Stopwatch.StartNew();
    var model = pipeline.Fit(split.TrainSet);
    double seconds = stopwatch.Elapsed.TotalSeconds;
    var metrics = ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
    var routing = ((System.Collections.Generic.IEnumerable<ITransformer>)model)
        .OfType<MulticlassPredictionTransformer<DynMoEMulticlassModelParameters>>().Single().Model.Routing;
    string experts = string.Join("/", routing.Layers.Select(l => l.InitialExperts)) + " -> " + string.Join("/", routing.Layers.Select(l => l.ActiveExperts));
    Console.WriteLine($"{name,-36} {metrics.MacroAccuracy,9:F4} {metrics.MicroAccuracy,9:F4} {routing.MeanActivatedExpertsPerToken,9:F2} {experts,12} {seconds,8:F1}");
    if (metrics.MacroAccuracy > bestAccuracy)
    {
        bestAccuracy = metrics.MacroAccuracy;
        best = model;
    }
}

string modelPath = Path.Combine(outputDir, "best-model.zip");
ml.Model.Save(best!, data.Schema, modelPath);
Console.WriteLine();
Console.WriteLine($"Best model (macro accuracy {bestAccuracy:F4}) saved to {modelPath}");

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Microsoft.ML.DynMoE.sln")))
            return dir.FullName;
    }
    return Directory.GetCurrentDirectory();
}
