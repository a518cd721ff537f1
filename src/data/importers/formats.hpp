#pragma once
// Internal: one function per source format family, each reading ctx.files into ctx.writer and
// stating its rules in ctx.report.notes. import.cpp picks one by name.
#include <string_view>

#include "src/data/importers/import_context.hpp"

namespace aisle::data::detail {

void import_movielens(ImportContext& ctx, std::string_view variant);  // movielens-100k ... -25m
void import_lightgcn(ImportContext& ctx);                             // user item item ...
void import_sasrec(ImportContext& ctx);                               // user item, in time order
void import_s3rec(ImportContext& ctx);                                // user item item ..., in time order
void import_online_retail(ImportContext& ctx);
void import_retailrocket(ImportContext& ctx);
void import_mapped(ImportContext& ctx);  // `delimited`: any file with a column map

}  // namespace aisle::data::detail
