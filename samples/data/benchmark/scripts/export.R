# Writes the raw tables of the benchmark sets as CSV (factors as level labels, NA as empty), one file per set, into the
# folder given as the first argument. The second argument is the site-library folder of the unpacked Debian packages
# (r-cran-aer, r-cran-kernlab, r-cran-mlbench, r-cran-mlmrev, r-cran-modeldata). Only the named objects are loaded.
args <- commandArgs(TRUE)
out <- args[1]
lib <- args[2]
from_rda <- function(file, name) { e <- new.env(); load(file.path(lib, file), envir = e); get(name, envir = e) }
from_lazy <- function(pkg, name) {
  e <- new.env()
  lazyLoad(file.path(lib, pkg, "data", "Rdata"), envir = e, filter = function(x) x == name)
  as.data.frame(get(name, envir = e))
}
put <- function(d, name) write.csv(d, file.path(out, paste0(name, ".csv")), row.names = FALSE, na = "", fileEncoding = "UTF-8")

put(from_rda("AER/data/HMDA.rda", "HMDA"), "hmda_mortgage")
put(from_rda("AER/data/HealthInsurance.rda", "HealthInsurance"), "health_insurance")
put(from_rda("AER/data/CollegeDistance.rda", "CollegeDistance"), "college_distance")
put(from_rda("AER/data/NMES1988.rda", "NMES1988"), "nmes1988_visits")
put(from_rda("AER/data/CPS1988.rda", "CPS1988"), "cps1988_wages")
put(from_lazy("mlmRev", "Contraception"), "contraception_bangladesh")
put(from_lazy("mlmRev", "Exam"), "exam_london")
put(from_lazy("modeldata", "hpc_data"), "hpc_jobs")
put(from_rda("mlbench/data/DNA.rda", "DNA"), "dna_splice")
# Ordered factors of the income survey are written as their ranks (1 = lowest level), nominal ones as labels: the
# original ESL 'marketing' file codes every answer as an integer, and ranks keep the order a one-hot code would lose.
inc <- from_rda("kernlab/data/income.rda", "income")
for (c in names(inc)) if (is.ordered(inc[[c]])) inc[[c]] <- as.integer(inc[[c]])
put(inc, "income_bay_area")
# The level order of each ordered factor, for SOURCE.md.
inc0 <- from_rda("kernlab/data/income.rda", "income")
for (c in names(inc0)) if (is.ordered(inc0[[c]])) cat(c, ":", paste(seq_along(levels(inc0[[c]])), levels(inc0[[c]]), sep = "=", collapse = "; "), "\n")
