using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.Json;
using Microsoft.ML.DynMoE;

namespace Microsoft.ML.DynMoE.Samples;

/// <summary>
/// The small <c>.mbconfig</c>-style JSON each sample reads at run time: where the data is, which column is the label,
/// how to split it, and the DynMoE trainer options (any public field of the trainer's <c>Options</c>, by name).
/// </summary>
internal sealed class SampleConfig
{
    public string Scenario { get; set; } = "";
    public DataSourceConfig DataSource { get; set; } = new();
    public TrainingOptionConfig TrainingOption { get; set; } = new();

    public sealed class DataSourceConfig
    {
        public string Type { get; set; } = "TabularFile";
        /// <summary>Relative to the repository root (the folder holding Microsoft.ML.DynMoE.sln), or absolute.</summary>
        public string FilePath { get; set; } = "";
        public string Delimiter { get; set; } = ",";
        public bool HasHeader { get; set; } = true;
        public bool AllowQuoting { get; set; }
    }

    public sealed class TrainingOptionConfig
    {
        public string LabelColumn { get; set; } = "Label";
        public double TestFraction { get; set; } = 0.2;
        public int Seed { get; set; } = 1;
        public string Trainer { get; set; } = "DynMoE";
        public Dictionary<string, JsonElement> TrainerOptions { get; set; } = new();
        /// <summary>Epochs used with <c>--fast</c> (smoke runs and tests).</summary>
        public int FastNumberOfEpochs { get; set; } = 2;

        /// <summary>Text samples in <c>--fast</c> mode: tokens kept per message (0 keeps the trainer option).</summary>
        public int FastMaximumSequenceLength { get; set; }

        /// <summary>Rows of the training split kept in <c>--fast</c> mode (0 keeps them all).</summary>
        public int FastTrainingRows { get; set; }
    }

    public static SampleConfig Load(string path)
    {
        var options = new JsonSerializerOptions { PropertyNameCaseInsensitive = true, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
        return JsonSerializer.Deserialize<SampleConfig>(File.ReadAllText(path), options)
            ?? throw new InvalidDataException($"Config '{path}' is empty.");
    }

    /// <summary>Copies <see cref="TrainingOptionConfig.TrainerOptions"/> onto the trainer's options object (tabular, text or image) by field name.</summary>
    public void ApplyTo(object options)
    {
        foreach (var (name, value) in TrainingOption.TrainerOptions)
        {
            var field = options.GetType().GetField(name, BindingFlags.Public | BindingFlags.Instance)
                ?? throw new InvalidDataException($"Unknown trainer option '{name}' in the config; use a field name of {options.GetType().FullName}.");
            object converted = field.FieldType.IsEnum
                ? Enum.Parse(field.FieldType, value.GetString()!, ignoreCase: true)
                : Convert.ChangeType(value.ToString(), Nullable.GetUnderlyingType(field.FieldType) ?? field.FieldType, CultureInfo.InvariantCulture);
            field.SetValue(options, converted);
        }
    }

    public string Describe()
        => string.Join(", ", TrainingOption.TrainerOptions.Select(kv => $"{kv.Key}={kv.Value}"));
}

/// <summary>Command line, paths and console output shared by the samples.</summary>
internal sealed class SampleArguments
{
    public bool Fast { get; private set; }
    public string? OutputDirectory { get; private set; }
    public string? DataPath { get; private set; }
    public string? ConfigPath { get; private set; }

    public static SampleArguments Parse(string[] args)
    {
        var parsed = new SampleArguments();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--fast": parsed.Fast = true; break;
                case "--output": parsed.OutputDirectory = Next(); break;
                case "--data": parsed.DataPath = Next(); break;
                case "--config": parsed.ConfigPath = Next(); break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'. Use --fast, --output DIR, --data CSV, --config JSON.");
            }
        }
        return parsed;
    }

    /// <summary>The folder holding Microsoft.ML.DynMoE.sln, found by walking up from the executable (works from a fresh clone).</summary>
    public static string FindRepoRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Microsoft.ML.DynMoE.sln")))
                    return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("Could not find Microsoft.ML.DynMoE.sln above " + AppContext.BaseDirectory + "; pass --data and --output.");
    }

    /// <summary>
    /// A sample's entry: parses the arguments, resolves config, data and output folder, runs <paramref name="sample"/>
    /// (config, data path, output folder, fast) and returns 0, or prints the error and returns 1.
    /// </summary>
    public static int Run(string[] args, string sampleName, string configFileName, Action<SampleConfig, string, string, bool> sample)
    {
        try
        {
            var arguments = Parse(args);
            var (config, dataPath, outputDirectory) = arguments.Resolve(sampleName, configFileName);
            sample(config, dataPath, outputDirectory, arguments.Fast);
            return 0;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine(ex);
            return 1;
        }
    }

    /// <summary>Resolves the config (copied next to the executable), the data file and the output folder.</summary>
    public (SampleConfig Config, string DataPath, string OutputDirectory) Resolve(string sampleName, string configFileName)
    {
        string configPath = ConfigPath ?? Path.Combine(AppContext.BaseDirectory, configFileName);
        if (!File.Exists(configPath))
            configPath = Path.Combine(FindRepoRoot(), "samples", sampleName, configFileName);
        var config = SampleConfig.Load(configPath);
        string dataPath = DataPath ?? (Path.IsPathRooted(config.DataSource.FilePath)
            ? config.DataSource.FilePath
            : Path.Combine(FindRepoRoot(), config.DataSource.FilePath));
        string output = OutputDirectory ?? Path.Combine(FindRepoRoot(), "samples", sampleName, "output");
        Directory.CreateDirectory(output);
        return (config, Path.GetFullPath(dataPath), Path.GetFullPath(output));
    }
}

/// <summary>Writes one line per epoch, synchronously (Progress&lt;T&gt; would post to the thread pool and interleave).</summary>
internal sealed class ConsoleEpochProgress : IProgress<DynMoETrainingProgress>
{
    public void Report(DynMoETrainingProgress value)
    {
        int every = Math.Max(1, value.NumberOfEpochs / 8);
        if (value.Epoch == 1 || value.Epoch == value.NumberOfEpochs || value.Epoch % every == 0)
            Console.WriteLine($"  epoch {value.Epoch,3}/{value.NumberOfEpochs}  loss {value.TrainingLoss:F4}  experts per layer [{string.Join(", ", value.ActiveExperts)}]  activated/token {value.ActivatedExpertsPerToken:F2}  {value.Elapsed.TotalSeconds:F1}s");
    }
}

/// <summary>Prints a model's routing: experts per layer at the start and the end, activated experts per token, load.</summary>
internal static class RoutingPrinter
{
    public static void Print(DynMoERoutingSummary routing)
    {
        Console.WriteLine($"Routing (training data): {routing.MeanActivatedExpertsPerToken:F2} experts activated per token on average");
        foreach (var layer in routing.Layers)
        {
            string history = layer.ExpertCountHistory.Count == 0 ? "" : $", experts per epoch [{RunLengths(layer.ExpertCountHistory)}]";
            long total = Math.Max(1, layer.ExpertLoad.Sum());
            string load = string.Join(" ", layer.ExpertLoad.Take(layer.MaximumExperts).Where(l => l > 0).Select(l => $"{100.0 * l / total:F0}%"));
            Console.WriteLine($"  layer {layer.Layer} ({layer.Gating}): {layer.InitialExperts} -> {layer.ActiveExperts} experts (max {layer.MaximumExperts}), {layer.MeanActivatedExpertsPerToken:F2} activated/token, load [{load}]{history}");
        }
    }

    /// <summary>"4x3 5x17": the expert count and for how many consecutive epochs it held.</summary>
    private static string RunLengths(IReadOnlyList<int> counts)
    {
        var parts = new List<string>();
        for (int i = 0; i < counts.Count;)
        {
            int j = i;
            while (j < counts.Count && counts[j] == counts[i])
                j++;
            parts.Add($"{counts[i]}x{j - i}");
            i = j;
        }
        return string.Join(" ", parts);
    }
}
