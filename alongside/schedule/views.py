from django.shortcuts import render

from alongside.accounts.decorators import member_required


@member_required
def my_schedule(request):
    return render(request, "schedule/mine.html", {})
