using System.CommandLine;

namespace Microsoft.ML.DynMoE.Cli
{
    /// <summary>The <c>dynmoe</c> command line. Exit codes: 0 ok, 2 bad arguments or unreadable data, 1 unexpected error.</summary>
    public static class DynMoECli
    {
        /// <summary>Success.</summary>
        public const int ExitOk = 0;
        /// <summary>Unexpected error.</summary>
        public const int ExitUnexpected = 1;
        /// <summary>Bad arguments or unreadable data.</summary>
        public const int ExitUsage = 2;

        /// <summary>Runs the CLI in-process.</summary>
        /// <param name="args">Command-line arguments.</param>
        /// <param name="output">Standard output.</param>
        /// <param name="error">Standard error.</param>
        /// <param name="cancellationToken">Cancels a running command (Ctrl+C); completed trials are still written.</param>
        /// <param name="interactive">Use the Spectre.Console live display (only sensible on a real terminal).</param>
        public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default, bool interactive = false)
        {
            var io = new CliIO(output, error, interactive);
            var root = BuildRootCommand(io, cancellationToken);
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                foreach (var e in parse.Errors)
                    error.WriteLine("error: " + e.Message);
                error.WriteLine("Run 'dynmoe --help' or 'dynmoe <command> --help' for usage.");
                return ExitUsage;
            }
            var config = new InvocationConfiguration { Output = output, Error = error };
            try
            {
                return parse.Invoke(config);
            }
            catch (CliUsageException ex)
            {
                error.WriteLine("error: " + ex.Message);
                return ExitUsage;
            }
        }

        private static RootCommand BuildRootCommand(CliIO io, CancellationToken ct)
        {
            var root = new RootCommand("dynmoe: Dynamic Mixture of Experts for ML.NET. Compare DynMoE with fixed top-k MoE, a dense network and ML.NET trainers on your CSV; train, apply and inspect DynMoE models.");
            root.Subcommands.Add(ExperimentCommand("classification", "Compare candidates on a classification task (binary vs multiclass inferred from the label).", regression: false, io, ct));
            root.Subcommands.Add(ExperimentCommand("regression", "Compare candidates on a regression task.", regression: true, io, ct));
            root.Subcommands.Add(TrainCommand(io, ct));
            root.Subcommands.Add(PredictCommand(io));
            root.Subcommands.Add(InspectCommand(io));
            root.Subcommands.Add(ExportCommand(io));
            root.Subcommands.Add(BenchmarkCommand.Create(io, ct));
            return root;
        }

        private static Option<string> DatasetOption(bool required = true) => new("--dataset") { Description = "Path of a delimited text file (CSV/TSV) with a header line.", Required = required };
        private static Option<string> LabelOption(bool required = true) => new("--label-col") { Description = "Name of the label column.", Required = required };
        private static Option<int> ThreadsOption() => new("--threads")
        {
            Description = "CPU threads of the neural trainers (DynMoE NumberOfThreads). Default 1, like the ML.NET candidates, so training times compare like with like; small tabular networks gain little from more.",
            DefaultValueFactory = _ => 1,
        };

        private static Option<bool> HasHeaderOption() => new("--has-header") { Description = "Whether the first line holds column names.", DefaultValueFactory = _ => true };

        private static System.CommandLine.Command ExperimentCommand(string name, string description, bool regression, CliIO io, CancellationToken ct)
        {
            var dataset = DatasetOption(required: regression);
            var label = LabelOption(required: regression);
            var hasHeader = HasHeaderOption();
            var trainTime = new Option<int>("--train-time") { Description = "Time budget in seconds; no new candidate starts after it (a running one finishes).", DefaultValueFactory = _ => 100 };
            var folds = new Option<int>("--folds", "--cv-folds") { Description = "Number of cross-validation folds (same folds for every candidate). --cv-folds is the old name.", DefaultValueFactory = _ => 5 };
            var output = new Option<string>("--output") { Description = "Output directory for the leaderboard, charts and best model.", DefaultValueFactory = _ => "dynmoe-output" };
            var seed = new Option<int>("--seed") { Description = "Seed for folds and training.", DefaultValueFactory = _ => 0 };
            var epochs = new Option<int>("--epochs") { Description = "Epoch budget of every neural candidate.", DefaultValueFactory = _ => 30 };
            var families = new Option<string?>("--families") { Description = "Comma-separated families to include (dynmoe,topk,dense,lightgbm,fasttree,sdca,lbfgs). Default: all." };
            var maxModels = new Option<int>("--max-models") { Description = "Maximum number of candidates to train.", DefaultValueFactory = _ => int.MaxValue };
            var hidden = new Option<int>("--model-dimension", "--hidden-size") { Description = "ModelDimension (residual width) of the neural candidates. ExpertHiddenDimension equals it for tabular data and is twice it for text and images (the encoder trainers' 64 / 128 defaults). --hidden-size is the old name.", DefaultValueFactory = _ => 64 };
            var threads = ThreadsOption();
            var cmd = new System.CommandLine.Command(name, description) { dataset, label, hasHeader, trainTime, folds, output, seed, epochs, families, maxModels, hidden, threads };
            var textColumn = new Option<string?>("--text-col") { Description = "Free-text column: DynMoE Transformer text classifiers read it, ML.NET candidates its FeaturizeText. Default: the file's only free-text feature column, if that is all it has." };
            var imageSize = new Option<string?>("--image-size") { Description = "HxW or HxWxC. With --dataset: the CSV's feature columns are the pixels (ExtractPixels order). With --image-folder: the size images are resized to (C = 1 grey, 3 RGB; default 3)." };
            var imageFolder = new Option<string?>("--image-folder") { Description = "A folder with one subfolder of images per label (the Model Builder layout); needs --image-size." };
            var patchSize = new Option<int>("--patch-size") { Description = "Patch side of the Vision Transformer candidates (divides H and W). Default: the image trainer's." };
            var textEncoder = new Option<string?>("--text-encoder") { Description = "Encoder of the DynMoE text candidates: 'scratch' (a Transformer trained from scratch, the default) or 'minilm' (fine-tune the pretrained all-MiniLM-L6-v2 with its FFNs upcycled into DynMoE experts; 128 tokens)." };
            var interleaved = new Option<bool>("--interleaved-colors", "--interleaved") { Description = "InterleavedColors: CSV pixels are pixel-major (ExtractPixels(interleavePixelColors: true)) instead of channel-planar. --interleaved is the old name." };
            if (!regression)
            {
                cmd.Add(textColumn);
                cmd.Add(textEncoder);
                cmd.Add(imageSize);
                cmd.Add(imageFolder);
                cmd.Add(patchSize);
                cmd.Add(interleaved);
            }
            cmd.SetAction(pr => Guard(io, () => ExperimentRunner.Run(io, new ExperimentArgs
            {
                Dataset = pr.GetValue(dataset) ?? "",
                LabelColumn = pr.GetValue(label) ?? "",
                HasHeader = pr.GetValue(hasHeader),
                TrainTimeSeconds = pr.GetValue(trainTime),
                Folds = pr.GetValue(folds),
                OutputDirectory = pr.GetValue(output)!,
                Seed = pr.GetValue(seed),
                Epochs = pr.GetValue(epochs),
                Families = pr.GetValue(families),
                MaxModels = pr.GetValue(maxModels),
                ModelDimension = pr.GetValue(hidden),
                Threads = pr.GetValue(threads),
                Regression = regression,
                TextColumn = pr.GetValue(textColumn),
                TextEncoder = pr.GetValue(textEncoder),
                ImageSize = pr.GetValue(imageSize),
                ImageFolder = pr.GetValue(imageFolder),
                PatchSize = pr.GetValue(patchSize),
                InterleavedColors = pr.GetValue(interleaved),
                EpochsGiven = pr.GetResult(epochs) is { Implicit: false },
            }, ct)));
            return cmd;
        }

        private static System.CommandLine.Command TrainCommand(CliIO io, CancellationToken ct)
        {
            var dataset = DatasetOption();
            var label = LabelOption();
            var hasHeader = HasHeaderOption();
            var task = new Option<string>("--task") { Description = "multiclass | binary | regression.", Required = true };
            task.AcceptOnlyFromAmong("multiclass", "binary", "regression");
            var gating = new Option<string>("--gating") { Description = "top-any (DynMoE) | top-k | dense.", DefaultValueFactory = _ => "top-any" };
            gating.AcceptOnlyFromAmong("top-any", "top-k", "dense");
            var k = new Option<int>("--top-k", "--k") { Description = "TopK: experts per token for top-k gating. --k is the old name.", DefaultValueFactory = _ => 2 };
            var experts = new Option<int>("--initial-experts", "--experts") { Description = "InitialExperts: experts per layer (the starting count for top-any). --experts is the old name.", DefaultValueFactory = _ => 4 };
            var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 30 };
            var hidden = new Option<int>("--model-dimension", "--hidden-size") { Description = "ModelDimension (residual width); ExpertHiddenDimension equals it. --hidden-size is the old name.", DefaultValueFactory = _ => 64 };
            var seed = new Option<int>("--seed") { Description = "Seed.", DefaultValueFactory = _ => 0 };
            var model = new Option<string>("--model") { Description = "Output model file (.zip).", Required = true };
            var threads = ThreadsOption();
            var cmd = new System.CommandLine.Command("train", "Train one DynMoE (or top-k / dense) model on a CSV and save it.") { dataset, label, hasHeader, task, gating, k, experts, epochs, hidden, seed, model, threads };
            var method = new DynMoEMethodOptions();
            method.AddTo(cmd);
            cmd.SetAction(pr => Guard(io, () => ModelCommands.Train(io, new TrainArgs
            {
                Dataset = pr.GetValue(dataset)!,
                LabelColumn = pr.GetValue(label)!,
                HasHeader = pr.GetValue(hasHeader),
                Task = pr.GetValue(task)!,
                Gating = pr.GetValue(gating)!,
                K = pr.GetValue(k),
                Experts = pr.GetValue(experts),
                Epochs = pr.GetValue(epochs),
                ModelDimension = pr.GetValue(hidden),
                Seed = pr.GetValue(seed),
                ModelPath = pr.GetValue(model)!,
                Threads = pr.GetValue(threads),
                Method = settings => method.Apply(pr, settings),
            }, ct)));
            return cmd;
        }

        private static System.CommandLine.Command PredictCommand(CliIO io)
        {
            var model = new Option<string>("--model") { Description = "Model saved by 'dynmoe train' or 'dynmoe classification/regression'.", Required = true };
            var dataset = DatasetOption();
            var output = new Option<string>("--output") { Description = "Output CSV with the predictions.", Required = true };
            var cmd = new System.CommandLine.Command("predict", "Apply a saved model to a CSV with the training file's columns (the label column may be absent).") { model, dataset, output };
            cmd.SetAction(pr => Guard(io, () => ModelCommands.Predict(io, pr.GetValue(model)!, pr.GetValue(dataset)!, pr.GetValue(output)!)));
            return cmd;
        }

        private static System.CommandLine.Command InspectCommand(CliIO io)
        {
            var model = new Option<string>("--model") { Description = "Model file.", Required = true };
            var dataset = DatasetOption(required: false);
            var label = LabelOption(required: false);
            var heatmaps = new Option<string?>("--heatmaps") { Description = "Image models with --dataset: folder for the routing heatmap PNGs (mean activated experts per patch, per MoE layer, overall and per class). Default: <model>-routing next to the model." };
            var cmd = new System.CommandLine.Command("inspect", "Show the routing summary per MoE layer; with --dataset (and --label-col) also per class, and routing heatmaps for image models.") { model, dataset, label, heatmaps };
            cmd.SetAction(pr => Guard(io, () => ModelCommands.Inspect(io, pr.GetValue(model)!, pr.GetValue(dataset), pr.GetValue(label), pr.GetValue(heatmaps))));
            return cmd;
        }

        private static System.CommandLine.Command ExportCommand(CliIO io)
        {
            var model = new Option<string>("--model") { Description = "Model file with a tabular DynMoE model, or an image model trained on pixel columns.", Required = true };
            var output = new Option<string>("--output") { Description = "ONNX file to write.", Required = true };
            var cmd = new System.CommandLine.Command("export", "Export a saved DynMoE model, featurization included, to ONNX (inputs: the data file's columns).") { model, output };
            cmd.SetAction(pr => Guard(io, () => ExportCommands.Export(io, pr.GetValue(model)!, pr.GetValue(output)!)));
            return cmd;
        }

        /// <summary>Runs a command: usage errors exit with <see cref="ExitUsage"/>, cancellation and unexpected errors with <see cref="ExitUnexpected"/>.</summary>
        internal static int Guard(CliIO io, Func<int> body)
        {
            try
            {
                return body();
            }
            catch (CliUsageException ex)
            {
                io.Error.WriteLine("error: " + ex.Message);
                return ExitUsage;
            }
            catch (OperationCanceledException)
            {
                io.Error.WriteLine("Cancelled.");
                return ExitUnexpected;
            }
            catch (Exception ex)
            {
                io.Error.WriteLine("Unexpected error: " + ex.Message);
                io.Error.WriteLine(ex.ToString());
                return ExitUnexpected;
            }
        }
    }

    internal sealed class CliIO
    {
        public CliIO(TextWriter output, TextWriter error, bool interactive) { Output = output; Error = error; Interactive = interactive; }
        public TextWriter Output { get; }
        public TextWriter Error { get; }
        public bool Interactive { get; }
    }
}
