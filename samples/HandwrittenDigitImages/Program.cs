using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE;
using Microsoft.ML.DynMoE.Images;
using Microsoft.ML.DynMoE.Samples;
using Microsoft.ML.DynMoE.Sequence;

namespace HandwrittenDigitImages;

/// <summary>
/// Trains a DynMoE Vision Transformer from a folder of PNG images (one subfolder per digit, written from the shipped
/// MNIST pixel CSV on the first run) through LoadImages → ResizeImages → ConvertToGrayscale → ExtractPixels, evaluates it
/// on a held-out 20%, predicts single image files with the saved model and writes routing heatmaps (mean activated
/// experts per patch, per MoE layer, overall and per digit).
/// Usage: dotnet run --project samples/HandwrittenDigitImages [-- --fast] [--output DIR] [--data CSV] [--config JSON]
/// </summary>
public static class Program
{
    public const string ModelFileName = "DigitImagesModel.mlnet";
    public const string SummaryFileName = "DigitImagesModel.summary.json";
    public const string HeatmapFolderName = "routing-heatmaps";

    public static int Main(string[] args) => Run(args);

    /// <summary>Runs the whole sample; returns 0 on success. <c>--fast</c> trains a few epochs on 400 images (tests).</summary>
    public static int Run(string[] args) => SampleArguments.Run(args, "HandwrittenDigitImages", "DigitImagesModel.mbconfig", RunSample);

    private static void RunSample(SampleConfig config, string dataPath, string outputDirectory, bool fast)
    {
        var training = config.TrainingOption;
        var mlContext = new MLContext(seed: training.Seed);

        // The Model Builder image layout: images/<digit>/<n>.png.
        string imageFolder = Path.Combine(outputDirectory, "images");
        int written = DigitImagesModel.WriteImageFolder(dataPath, imageFolder);
        var images = DigitImagesModel.LoadImageFolder(mlContext, imageFolder);
        var split = mlContext.Data.TrainTestSplit(images, testFraction: training.TestFraction, seed: training.Seed);
        var train = fast ? mlContext.Data.TakeRows(split.TrainSet, 400) : split.TrainSet;

        var options = new DynMoEImageClassificationTrainer.Options { Seed = training.Seed, Progress = new ConsoleEpochProgress() };
        config.ApplyTo(options);
        if (fast)
            options.NumberOfEpochs = training.FastNumberOfEpochs;

        Console.WriteLine($"Images: {written} PNG files in {imageFolder} (one subfolder per digit), written from {dataPath}");
        Console.WriteLine($"Task: digit 0-9 from a 28×28 image, {1 - training.TestFraction:P0} train / {training.TestFraction:P0} test, seed {training.Seed}");
        Console.WriteLine($"Pipeline: LoadImages → ResizeImages(28×28) → ConvertToGrayscale → ExtractPixels → DynMoEImageClassification ({config.Describe()}){(fast ? $", --fast: {options.NumberOfEpochs} epochs on 400 images" : "")}");
        Console.WriteLine();
        Console.WriteLine("Training...");
        var stopwatch = Stopwatch.StartNew();
        var model = DigitImagesModel.RetrainModel(mlContext, train, options);
        double trainingSeconds = stopwatch.Elapsed.TotalSeconds;
        Console.WriteLine($"Trained in {trainingSeconds:F1} s");

        var scoredTest = model.Transform(split.TestSet);
        var metrics = mlContext.MulticlassClassification.Evaluate(scoredTest, labelColumnName: training.LabelColumn);
        Console.WriteLine();
        Console.WriteLine($"Test metrics: micro accuracy {metrics.MicroAccuracy:F4}, macro accuracy {metrics.MacroAccuracy:F4}, log-loss {metrics.LogLoss:F4}");

        var vit = ((IEnumerable<ITransformer>)model).OfType<DynMoEEncoderTransformer>().Single();
        Console.WriteLine();
        RoutingPrinter.Print(vit.Model.Routing);
        var report = vit.Model.ComputeRouting(scoredTest, training.LabelColumn);
        Console.WriteLine();
        Console.WriteLine($"Experts activated per patch, by digit (test images; overall {report.Overall.MeanActivatedExpertsPerToken:F2}):");
        var byDigit = report.ByLabel.OrderByDescending(pair => pair.Value.MeanActivatedExpertsPerToken).ToList();
        foreach (var (digit, summary) in byDigit)
            Console.WriteLine($"  {digit}: {summary.MeanActivatedExpertsPerToken:F2}   per layer {string.Join(" / ", summary.Layers.Select(l => l.MeanActivatedExpertsPerToken.ToString("F2", CultureInfo.InvariantCulture)))}");

        // Save, then predict single image files with the saved model the way an application would (DigitImagesModel.consumption.cs).
        string modelPath = Path.Combine(outputDirectory, ModelFileName);
        DigitImagesModel.SaveModel(mlContext, model, images, modelPath);
        DigitImagesModel.MLNetModelPath = modelPath;
        Console.WriteLine();
        Console.WriteLine("Predictions from the saved model (single test image files):");
        var predictions = new List<object>();
        foreach (var input in mlContext.Data.CreateEnumerable<DigitImagesModel.ModelInput>(split.TestSet, reuseRowObject: false).Take(5))
        {
            var file = new DigitImagesModel.ModelInput { ImageSource = input.ImageSource };
            var prediction = DigitImagesModel.Predict(file);
            string top = string.Join(", ", DigitImagesModel.PredictAllLabels(file).Take(3).Select(pair => $"{pair.Key}: {pair.Value:P1}"));
            Console.WriteLine($"  {Path.GetRelativePath(outputDirectory, input.ImageSource)}: actual {input.Label} -> predicted {prediction.PredictedLabel}   ({top})");
            predictions.Add(new { File = input.ImageSource, Actual = input.Label, prediction.PredictedLabel });
        }

        string heatmaps = Path.Combine(outputDirectory, HeatmapFolderName);
        Console.WriteLine();
        DrawHeatmaps(mlContext, vit, scoredTest, outputDirectory, heatmaps);

        string summaryPath = Path.Combine(outputDirectory, SummaryFileName);
        File.WriteAllText(summaryPath, JsonSerializer.Serialize(new
        {
            metrics.MicroAccuracy,
            metrics.MacroAccuracy,
            metrics.LogLoss,
            TrainingSeconds = trainingSeconds,
            TrainingImages = train.GetRowCount() ?? train.GetColumn<string>("Label").Count(),
            ActiveExpertsPerLayer = vit.Model.Routing.Layers.Select(l => l.ActiveExperts).ToArray(),
            ActivatedExpertsPerToken = report.Overall.MeanActivatedExpertsPerToken,
            ActivatedExpertsPerPatchByDigit = report.ByLabel.ToDictionary(pair => pair.Key, pair => pair.Value.MeanActivatedExpertsPerToken),
            ActivatedExpertsByPosition = report.ActivatedExpertsByPosition,
            Predictions = predictions,
            Heatmaps = Directory.Exists(heatmaps) ? Directory.GetFiles(heatmaps, "*.png").Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray() : Array.Empty<string>(),
        }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine();
        Console.WriteLine($"Model saved to {modelPath}");
        Console.WriteLine($"Summary saved to {summaryPath}");
    }

    /// <summary>
    /// Draws the routing heatmaps with <c>dynmoe inspect</c> in a child process (ScottPlot's SkiaSharp 3 cannot be loaded
    /// beside ImageAnalytics' SkiaSharp 2.88): the ViT alone, reading the extracted pixels, is saved with a text loader,
    /// and the test images' pixels are written as a CSV it reads.
    /// </summary>
    private static void DrawHeatmaps(MLContext mlContext, DynMoEEncoderTransformer vit, IDataView scoredTest, string outputDirectory, string heatmaps)
    {
        int pixels = DigitImagesModel.ImageHeight * DigitImagesModel.ImageWidth;
        string csv = Path.Combine(outputDirectory, "test-pixels.csv");
        using (var writer = new StreamWriter(csv))
        {
            writer.WriteLine("Label," + string.Join(",", Enumerable.Range(0, pixels).Select(p => $"pixel_{p / DigitImagesModel.ImageWidth}_{p % DigitImagesModel.ImageWidth}")));
            var labels = scoredTest.GetColumn<string>("ImageSource").Select(path => Path.GetFileName(Path.GetDirectoryName(path)!)).ToArray();
            int row = 0;
            foreach (var features in scoredTest.GetColumn<float[]>("Features"))
                writer.WriteLine(labels[row++] + "," + string.Join(",", features.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        }

        var loader = mlContext.Data.CreateTextLoader(new[]
        {
            new TextLoader.Column("Label", DataKind.String, 0),
            new TextLoader.Column("Features", DataKind.Single, 1, pixels),
        }, separatorChar: ',', hasHeader: true);
        string routingModel = Path.Combine(outputDirectory, "DigitImagesModel.vit.zip");
        mlContext.Model.Save(vit, loader, routingModel);

        string? cli = FindCli();
        if (cli is null)
        {
            Console.WriteLine($"Routing heatmaps: build src/Microsoft.ML.DynMoE.Cli, then run: dynmoe inspect --model {routingModel} --dataset {csv} --label-col Label --heatmaps {heatmaps}");
            return;
        }

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { cli, "inspect", "--model", routingModel, "--dataset", csv, "--label-col", "Label", "--heatmaps", heatmaps })
            start.ArgumentList.Add(argument);
        using var child = Process.Start(start) ?? throw new InvalidOperationException("Could not start 'dotnet' for the routing heatmaps.");
        var errors = child.StandardError.ReadToEndAsync();
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0)
            throw new InvalidOperationException($"dynmoe inspect failed ({child.ExitCode}): {output}{errors.Result}");
        Console.WriteLine($"Routing heatmaps (dynmoe inspect): {output.Split('\n').Last(l => l.StartsWith("Wrote", StringComparison.Ordinal)).Trim()}");
    }

    /// <summary>The CLI built beside this sample (same configuration), e.g. src/Microsoft.ML.DynMoE.Cli/bin/Release/net10.0/dynmoe.dll.</summary>
    private static string? FindCli()
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string configuration = framework.Parent?.Name ?? "Release";
        string root = SampleArguments.FindRepoRoot();
        foreach (var c in new[] { configuration, "Release", "Debug" })
        {
            string path = Path.Combine(root, "src", "Microsoft.ML.DynMoE.Cli", "bin", c, framework.Name, "dynmoe.dll");
            if (File.Exists(path))
                return path;
        }

        return null;
    }
}
