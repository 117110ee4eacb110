
namespace Microsoft.ML.DynMoE.Cli
{
    internal static class Program
    {
        private static int Main(string[] args)
        {
            using var cts = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                if (cts.IsCancellationRequested)
                    return; // second Ctrl+C: let the process die
                e.Cancel = true;
                Console.Error.WriteLine("Stopping: the running trial is cancelled and the completed trials are written... (press Ctrl+C again to abort)");
                cts.Cancel();
            };
            bool interactive = !Console.IsOutputRedirected && !Console.IsErrorRedirected;
            return DynMoECli.Run(args, Console.Out, Console.Error, cts.Token, interactive);
        }
    }
}
