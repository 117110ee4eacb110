using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE;
using Microsoft.ML.DynMoE.Samples;

namespace ConcreteStrength;

/// <summary>
/// Trains DynMoE to predict concrete compressive strength from the mix and its age, evaluates it on held-out mixes,
/// shows how many experts weak and strong mixes activate, predicts a few mixes and saves the model.
/// Usage: dotnet run --project samples/ConcreteStrength [-- --fast] [--output DIR] [--data CSV] [--config JSON]
/// </summary>
public static class Program
{
    public const string ModelFileName = "ConcreteModel.mlnet";
    public const string SummaryFileName = "ConcreteModel.summary.json";

    public static int Main(string[] args) => Run(args);

    /// <summary>Runs the whole sample; returns 0 on success. <c>--fast</c> trains for a few epochs (tests).</summary>
    public static int Run(string[] args) => SampleArguments.Run(args, "ConcreteStrength", "ConcreteModel.mbconfig", RunSample);

    private static void RunSample(SampleConfig config, string dataPath, string outputDirectory, bool fast)
    {
        var training = config.TrainingOption;
        var mlContext = new MLContext(seed: training.Seed);
        var data = ConcreteModel.LoadIDataViewFromFile(mlContext, dataPath, config.DataSource.Delimiter[0], config.DataSource.HasHeader, config.DataSource.AllowQuoting);
        var split = mlContext.Data.TrainTestSplit(data, testFraction: training.TestFraction, seed: training.Seed);

        var options = new DynMoERegressionTrainer.Options { Seed = training.Seed, Progress = new ConsoleEpochProgress() };
        config.ApplyTo(options);
        if (fast)
            options.NumberOfEpochs = training.FastNumberOfEpochs;

        Console.WriteLine($"Data: {dataPath}");
        Console.WriteLine($"Task: regression (compressive strength in MPa from 7 ingredients and age), {1 - training.TestFraction:P0} train / {training.TestFraction:P0} test, seed {training.Seed}");
        Console.WriteLine($"Trainer: DynMoE ({config.Describe()}){(fast ? $", --fast: {options.NumberOfEpochs} epochs" : "")}");
        Console.WriteLine();
        Console.WriteLine("Training...");
        var stopwatch = Stopwatch.StartNew();
        var model = ConcreteModel.RetrainModel(mlContext, split.TrainSet, options);
        Console.WriteLine($"Trained in {stopwatch.Elapsed.TotalSeconds:F1} s");

        var scoredTest = model.Transform(split.TestSet);
        var metrics = mlContext.Regression.Evaluate(scoredTest, labelColumnName: training.LabelColumn);
        Console.WriteLine();
        Console.WriteLine($"Test metrics: R-squared {metrics.RSquared:F4}, RMSE {metrics.RootMeanSquaredError:F2} MPa, MAE {metrics.MeanAbsoluteError:F2} MPa");

        var dynMoE = ((IEnumerable<ITransformer>)model).OfType<RegressionPredictionTransformer<DynMoERegressionModelParameters>>().Single();
        Console.WriteLine();
        RoutingPrinter.Print(dynMoE.Model.Routing);
        // A numeric label has too many values to group by, so measure routing per strength band instead.
        var bands = new (string Name, double Low, double High)[] { ("< 20 MPa", 0, 20), ("20-40 MPa", 20, 40), ("40-60 MPa", 40, 60), (">= 60 MPa", 60, 1000) };
        Console.WriteLine("Experts activated per token on the test rows, by strength band:");
        var byBand = new Dictionary<string, double>();
        foreach (var (name, low, high) in bands)
        {
            var band = mlContext.Data.FilterRowsByColumn(scoredTest, training.LabelColumn, low, high);
            var summary = dynMoE.Model.ComputeRouting(band).Overall;
            if (summary.Rows == 0)
                continue;
            byBand[name] = summary.MeanActivatedExpertsPerToken;
            string perLayer = string.Join(" / ", summary.Layers.Select(l => l.MeanActivatedExpertsPerToken.ToString("F2")));
            Console.WriteLine($"  {name,-10} {summary.Rows,4} rows  {summary.MeanActivatedExpertsPerToken:F2} activated/token (per layer {perLayer})");
        }

        string modelPath = Path.Combine(outputDirectory, ModelFileName);
        ConcreteModel.SaveModel(mlContext, model, data, modelPath);
        ConcreteModel.MLNetModelPath = modelPath;
        Console.WriteLine();
        Console.WriteLine("Predictions from the saved model (test rows):");
        foreach (var input in mlContext.Data.CreateEnumerable<ConcreteModel.ModelInput>(split.TestSet, reuseRowObject: false).Take(5))
        {
            var prediction = ConcreteModel.Predict(input);
            Console.WriteLine($"  cement {input.Cement,5:F0} kg, water {input.Water,5:F0} kg, age {input.Age,3:F0} d: actual {input.Label,5:F1} MPa -> predicted {prediction.Score,5:F1} MPa");
        }

        var importance = ConcreteModel.CalculatePFI(mlContext, split.TestSet, model, training.LabelColumn);
        Console.WriteLine();
        Console.WriteLine("Permutation feature importance (change in R-squared when one input is shuffled):");
        foreach (var (feature, change) in importance)
            Console.WriteLine($"  {feature,-20} {change,8:F4}");

        string summaryPath = Path.Combine(outputDirectory, SummaryFileName);
        File.WriteAllText(summaryPath, JsonSerializer.Serialize(new
        {
            metrics.RSquared,
            metrics.RootMeanSquaredError,
            metrics.MeanAbsoluteError,
            TrainingSeconds = stopwatch.Elapsed.TotalSeconds,
            ActiveExpertsPerLayer = dynMoE.Model.Routing.Layers.Select(l => l.ActiveExperts).ToArray(),
            ActivatedExpertsPerToken = dynMoE.Model.ComputeRouting(scoredTest).Overall.MeanActivatedExpertsPerToken,
            ActivatedExpertsPerTokenByStrengthBand = byBand,
            FeatureImportance = importance.ToDictionary(pair => pair.Item1, pair => pair.Item2),
        }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine();
        Console.WriteLine($"Model saved to {modelPath}");
        Console.WriteLine($"Summary saved to {summaryPath}");
    }
}
